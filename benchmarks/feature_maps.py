"""Benchmark: all conv-layer feature maps of VGG16 for one 224 × 224 image vs one bare torchvision forward.

    python -m benchmarks.feature_maps [--device cpu|cuda] [--repeats 10]

Both are timed in the same run on the same model instance. The weights are random (generated
with torchvision's keys in a temporary TORCH_HOME, as the tests do), which does not change the
work done. 'feature maps' is cnnlab.features.feature_maps from a PIL image: preprocessing, the
convolutional part layer by layer and a copy of every conv output to the CPU. 'bare forward' is
model(x) on an already preprocessed tensor, the whole network including the classifier; the
features-only forward is shown too, since the feature maps need no classifier.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import torch
from PIL import Image


def _timed(fn, repeats: int, sync) -> list[float]:
    for _ in range(2):  # warm-up: allocator, cuDNN algorithm choice
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["TORCH_HOME"] = home
        from cnnlab.features import feature_layers, feature_maps
        from cnnlab.models import get_model, registry
        from cnnlab.weights import checkpoint_path

        path = checkpoint_path("vgg16.imagenet")
        path.parent.mkdir(parents=True)
        torch.manual_seed(0)
        torch.save(registry()["vgg16.imagenet"].build().state_dict(), path)
        loaded = get_model("vgg16.imagenet", args.device)
        device = loaded.device
        image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8))
        convs = [layer.name for layer in feature_layers(loaded.model) if layer.kind == "conv"]
        x = loaded.preprocess(image)[None].to(device)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

        def bare():
            with torch.inference_mode():
                loaded.model(x)

        def bare_features():
            with torch.inference_mode():
                loaded.model.features(x)

        def ours():
            feature_maps("vgg16.imagenet", image, convs, device)

        # interleave the two so that clock or thermal drift hits both alike
        bare_times, features_times, our_times = [], [], []
        for _ in range(args.repeats):
            bare_times += _timed(bare, 1, sync)
            features_times += _timed(bare_features, 1, sync)
            our_times += _timed(ours, 1, sync)
    bare_ms, features_ms, our_ms = (statistics.median(t) * 1e3 for t in (bare_times, features_times, our_times))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {device.type} ({name}); torch {torch.__version__}; {args.repeats} repeats, medians")
    print(f"bare torchvision forward (whole network):  {bare_ms:9.2f} ms")
    print(f"bare forward of model.features only:       {features_ms:9.2f} ms")
    print(f"all 13 conv feature maps, from PIL (ours): {our_ms:9.2f} ms")
    print(f"ratio to the whole forward:    {our_ms / bare_ms:.3f} (target <= 1.10)")
    print(f"ratio to the features forward: {our_ms / features_ms:.3f} (the cost of collecting the maps)")


if __name__ == "__main__":
    main()
