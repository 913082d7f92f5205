"""One place that answers "detect / segment / feature maps / classify this picture with model M".

In this process (the default: `streamlit run app.py` needs nothing else) or on a remote inference
service (cnnlab.serve, Ray Serve) shared by many app processes, chosen by the environment:

    CNNLAB_INFERENCE_URL=http://127.0.0.1:8000   the service; unset: in this process
    CNNLAB_INFERENCE_FALLBACK=local|off          service down: compute here (default), or say so

Pages never know which: they ask `backend()`. Requests and results travel as cnnlab.wire messages.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import cache

import torch
from PIL import Image

from cnnlab import wire
from cnnlab.errors import LessonInputError
from cnnlab.features import Prediction, feature_maps, top_classes
from cnnlab.models import get_model
from cnnlab.segmentation import Detection, Segmentation, detect_all, segment
from cnnlab.weights import WeightsError

URL_VARIABLE = "CNNLAB_INFERENCE_URL"
FALLBACK_VARIABLE = "CNNLAB_INFERENCE_FALLBACK"
ROUTES = ("detect", "segment", "features", "classify")
ERROR_STATUS = 422  # the service's answer to a picture or setting a lesson refuses: {"key", "values", "kind"}


class ServiceUnavailable(LessonInputError):
    """The inference service cannot be reached and falling back to this process is not allowed."""


# One network at a time per process: torch already uses every core for one forward, and thirty
# students' forwards at once would each hold their picture-sized tensors (gigabytes) for no speed-up.
# Only work done here takes it: a request waiting on the service must not keep others from it.
network_lock = threading.Lock()


class InProcess:
    """The models of this process (cnnlab's model cache: one instance each, shared by every session)."""

    where = "local"

    def detect(self, image: Image.Image, model_name: str, mask_threshold: float) -> Detection:
        with network_lock:
            return detect_all(image, model_name, mask_threshold)

    def segment(self, image: Image.Image, model_name: str) -> Segmentation:
        with network_lock:
            return segment(image, model_name).compact()

    def feature_maps(self, image: Image.Image, model_name: str, layers: list[str]) -> dict[str, torch.Tensor]:
        with network_lock:
            return feature_maps(model_name, image, layers)

    def classify(self, image: Image.Image, model_name: str, k: int) -> list[Prediction]:
        with network_lock:
            return top_classes(get_model(model_name), image, k=k)

    def status(self) -> str:
        return "ok"


class Remote:
    """The inference service at `url`; `fallback` (an InProcess) answers while the service is down.

    Health is asked of Ray Serve's /-/healthz at most every HEALTH_TTL_S seconds; a failed request
    marks the service down until the next health check says otherwise.
    """

    HEALTH_TTL_S = 5.0

    def __init__(self, url: str, fallback: InProcess | None, timeout_s: float = 120.0) -> None:
        self.url, self.fallback, self.timeout_s = url.rstrip("/"), fallback, timeout_s
        self.where = "service"
        self._health: tuple[float, bool] = (-float("inf"), True)
        self._lock = threading.Lock()

    def _post(self, route: str, image: Image.Image, **settings) -> bytes | None:
        """The service's answer, or None when it is down and a fallback may answer instead."""
        request = urllib.request.Request(
            f"{self.url}/{route}",
            data=wire.encode_request(image, **settings),
            headers={"Content-Type": "application/octet-stream"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return answer.read()
        except urllib.error.HTTPError as err:
            if err.code == ERROR_STATUS:
                refused = json.loads(err.read())
                kind = WeightsError if refused.get("kind") == "weights" else LessonInputError
                raise kind(refused["key"], **refused["values"]) from None
            self._mark(False)
        except (OSError, TimeoutError):  # URLError, refused connection, reset, timeout
            self._mark(False)
        if self.fallback is None:
            raise ServiceUnavailable("service.down", url=self.url)
        return None

    def _mark(self, healthy: bool) -> None:
        with self._lock:
            self._health = (time.monotonic(), healthy)

    def healthy(self) -> bool:
        checked, healthy = self._health
        if time.monotonic() - checked < self.HEALTH_TTL_S:
            return healthy
        try:
            with urllib.request.urlopen(f"{self.url}/-/healthz", timeout=2) as answer:
                healthy = answer.status == 200
        except (OSError, TimeoutError):
            healthy = False
        self._mark(healthy)
        return healthy

    def status(self) -> str:
        """'ok', 'fallback' (down, answered here) or 'down' (down, nobody answers)."""
        if self.healthy():
            return "ok"
        return "fallback" if self.fallback is not None else "down"

    def _ask(self, route: str, decode: Callable[[bytes], object], local: Callable[[], object], image, **settings):
        if not self.healthy() and self.fallback is not None:
            return local()
        answer = self._post(route, image, **settings)
        return local() if answer is None else decode(answer)

    def detect(self, image: Image.Image, model_name: str, mask_threshold: float) -> Detection:
        return self._ask(
            "detect",
            wire.decode_detection,
            lambda: self.fallback.detect(image, model_name, mask_threshold),
            image,
            model=model_name,
            mask_threshold=mask_threshold,
        )

    def segment(self, image: Image.Image, model_name: str) -> Segmentation:
        return self._ask(
            "segment",
            wire.decode_segmentation,
            lambda: self.fallback.segment(image, model_name),
            image,
            model=model_name,
        )

    def feature_maps(self, image: Image.Image, model_name: str, layers: list[str]) -> dict[str, torch.Tensor]:
        return self._ask(
            "features",
            wire.decode_feature_maps,
            lambda: self.fallback.feature_maps(image, model_name, layers),
            image,
            model=model_name,
            layers=list(layers),
        )

    def classify(self, image: Image.Image, model_name: str, k: int) -> list[Prediction]:
        return self._ask(
            "classify",
            wire.decode_predictions,
            lambda: self.fallback.classify(image, model_name, k),
            image,
            model=model_name,
            k=k,
        )


def backend_for(environment: dict[str, str]) -> InProcess | Remote:
    """The backend an environment asks for (see the module's docstring)."""
    url = environment.get(URL_VARIABLE, "").strip()
    if not url:
        return InProcess()
    fallback = environment.get(FALLBACK_VARIABLE, "local").strip().lower()
    if fallback not in ("local", "off"):
        raise ValueError(f"{FALLBACK_VARIABLE} must be 'local' or 'off', not {fallback!r}")
    return Remote(url, InProcess() if fallback == "local" else None)


@cache
def backend() -> InProcess | Remote:
    """This process's backend, read from os.environ once."""
    return backend_for(dict(os.environ))
