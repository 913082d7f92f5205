"""The inference service: one Ray Serve deployment per model family, requests batched across students.

    python -m cnnlab.serve [--port 8000] [--replicas 1] [--max-batch-size 8] [--batch-wait-ms 20]

Routes (POST a cnnlab.wire request; the answer is a cnnlab.wire result):
    /detect    instance segmentation (Mask R-CNN)      settings: model, mask_threshold
    /segment   semantic segmentation (U-Net, FCN, ...)  settings: model
    /features  feature maps of a classifier's layers    settings: model, layers
    /classify  a classifier's top classes               settings: model, k
GET /<route>/stats gives the batches this replica ran; Ray Serve's own GET /-/healthz says it is up.

A picture or setting a lesson refuses is answered 422 with {"key", "values", "kind"}, so the page
shows the same translated message as in-process. Needs requirements-serve.txt (`ray[serve]`);
the app itself never imports this module.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from collections.abc import Callable

import ray
import torch
from ray import serve
from starlette.requests import Request
from starlette.responses import Response

from cnnlab import wire
from cnnlab.errors import LessonInputError
from cnnlab.features import feature_maps_batch, top_classes
from cnnlab.inference import ERROR_STATUS
from cnnlab.models import get_model
from cnnlab.segmentation import detect_batch, segment_batch
from cnnlab.weights import WeightsError

MAX_BATCH_SIZE = 8
BATCH_WAIT_S = 0.02  # 20 ms: under a student's notice, long enough for a hall's requests to meet


def _refusal(err: LessonInputError) -> Response:
    kind = "weights" if isinstance(err, WeightsError) else "lesson"
    values = {k: v if isinstance(v, int | float | str) else str(v) for k, v in err.values.items()}
    body = json.dumps({"key": err.key, "values": values, "kind": kind})
    return Response(body, status_code=ERROR_STATUS, media_type="application/json")


def _grouped(items: list[tuple], key: Callable[[tuple], object]) -> dict[object, list[int]]:
    groups: dict[object, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(key(item), []).append(index)
    return groups


class _Batched:
    """What every model family shares: decode, batch, run in a worker thread, encode, count.

    A subclass gives `run_group(settings, images) -> [bytes]` for requests with equal settings.
    """

    def __init__(self, max_batch_size: int, batch_wait_s: float) -> None:
        self.answer.set_max_batch_size(max_batch_size)
        self.answer.set_batch_wait_timeout_s(batch_wait_s)
        self.batches: list[int] = []
        self.busy_s = 0.0

    async def __call__(self, request: Request) -> Response:
        if request.method == "GET" and request.url.path.rstrip("/").endswith("/stats"):
            return Response(json.dumps(self.stats()), media_type="application/json")
        try:
            image, settings = wire.decode_request(await request.body())
        except (ValueError, KeyError, OSError) as err:
            return Response(f"not a cnnlab request: {err}", status_code=400)
        answer = await self.answer((image, settings))
        return answer if isinstance(answer, Response) else Response(answer, media_type="application/octet-stream")

    @serve.batch(max_batch_size=MAX_BATCH_SIZE, batch_wait_timeout_s=BATCH_WAIT_S)
    async def answer(self, items: list[tuple]) -> list[bytes | Response]:
        self.batches.append(len(items))
        started = time.perf_counter()
        answers = await asyncio.to_thread(self._answer_all, items)
        self.busy_s += time.perf_counter() - started
        return answers

    def _answer_all(self, items: list[tuple]) -> list[bytes | Response]:
        answers: list[bytes | Response | None] = [None] * len(items)
        groups = _grouped(items, lambda item: json.dumps(item[1], sort_keys=True))
        for members in groups.values():
            settings, images = items[members[0]][1], [items[i][0] for i in members]
            try:
                results = self.run_group(settings, images)
            except LessonInputError:  # one refused picture must not fail the others: ask one by one
                results = [self._one(settings, image) for image in images]
            for i, result in zip(members, results, strict=True):
                answers[i] = result
        return answers

    def _one(self, settings: dict, image) -> bytes | Response:
        try:
            return self.run_group(settings, [image])[0]
        except LessonInputError as err:
            return _refusal(err)

    def run_group(self, settings: dict, images: list) -> list[bytes]:
        raise NotImplementedError

    def stats(self) -> dict:
        count = len(self.batches)
        return {
            "batches": count,
            "requests": sum(self.batches),
            "mean_batch_size": sum(self.batches) / count if count else 0.0,
            "max_batch_size": max(self.batches, default=0),
            "busy_s": round(self.busy_s, 3),
            "device": "cuda" if torch.cuda.is_available() else "cpu",
        }


class Detector(_Batched):
    """Mask R-CNN models: one forward over every picture of a batch (torchvision pads them together)."""

    def run_group(self, settings: dict, images: list) -> list[bytes]:
        found = detect_batch(images, settings["model"], float(settings["mask_threshold"]))
        return [wire.encode_detection(d) for d in found]


class Segmenter(_Batched):
    """Semantic models: pictures the network sees at the same size share one forward."""

    def run_group(self, settings: dict, images: list) -> list[bytes]:
        return [wire.encode_segmentation(s.compact()) for s in segment_batch(images, settings["model"])]


class Classifier(_Batched):
    """Classifiers (AlexNet, VGG, the lab model): feature maps or top classes, a batch in one forward."""

    def run_group(self, settings: dict, images: list) -> list[bytes]:
        if "layers" in settings:
            maps = feature_maps_batch(settings["model"], images, list(settings["layers"]))
            return [wire.encode_feature_maps(m) for m in maps]
        loaded = get_model(settings["model"])
        return [wire.encode_predictions(top_classes(loaded, image, int(settings["k"]))) for image in images]


FAMILIES = {"detect": Detector, "segment": Segmenter, "features": Classifier, "classify": Classifier}


def applications(replicas: int, max_batch_size: int, batch_wait_s: float, gpus_per_replica: float) -> dict:
    """route -> a bound Ray Serve application for each model family."""
    options = {
        "num_replicas": replicas,
        "max_ongoing_requests": max(2 * max_batch_size, 16),  # below max_batch_size a batch could never fill
        # num_cpus 0: four families fit a 2-core machine; torch in each uses the cores it finds
        "ray_actor_options": {"num_gpus": gpus_per_replica, "num_cpus": 0},
    }
    return {
        route: serve.deployment(family, name=route, **options).bind(max_batch_size, batch_wait_s)
        for route, family in FAMILIES.items()
    }


def start(
    port: int = 8000,
    replicas: int = 1,
    max_batch_size: int = MAX_BATCH_SIZE,
    batch_wait_s: float = BATCH_WAIT_S,
    gpus_per_replica: float | None = None,
) -> None:
    """Start Ray (this machine) and Serve on 127.0.0.1:port with the four routes; returns when they answer."""
    if gpus_per_replica is None:  # four deployments share one GPU when there is one
        gpus_per_replica = 0.25 if torch.cuda.is_available() else 0.0
    ray.init(include_dashboard=False, configure_logging=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    for route, app in applications(replicas, max_batch_size, batch_wait_s, gpus_per_replica).items():
        serve.run(app, name=route, route_prefix=f"/{route}", blocking=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=int(os.environ.get("CNNLAB_SERVE_PORT", 8000)))
    ap.add_argument("--replicas", type=int, default=1, help="replicas of each deployment")
    ap.add_argument("--max-batch-size", type=int, default=MAX_BATCH_SIZE)
    ap.add_argument("--batch-wait-ms", type=float, default=BATCH_WAIT_S * 1000)
    ap.add_argument("--gpus-per-replica", type=float, help="default: 0.25 with a GPU (four share it), else 0")
    a = ap.parse_args(argv)
    if a.replicas < 1 or a.max_batch_size < 1 or a.batch_wait_ms < 0:
        ap.error("--replicas and --max-batch-size must be at least 1, --batch-wait-ms not negative")
    start(a.port, a.replicas, a.max_batch_size, a.batch_wait_ms / 1000, a.gpus_per_replica)
    print(f"cnnlab inference service on http://127.0.0.1:{a.port} ({', '.join(FAMILIES)})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    serve.shutdown()
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
