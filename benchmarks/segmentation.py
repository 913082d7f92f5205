"""Benchmark: the segmentation models on the CPU and on a CUDA GPU of the same machine, same pictures.

    python -m benchmarks.segmentation [--repeats 10] [--pretrained]

Times segment() (U-Net) and detect() (Mask R-CNN) end to end from a PIL picture, as the pages
call them, and a bare forward of each network on a ready tensor of the same size as the
baseline (for Mask R-CNN on noise, so the number of detections differs); prints the medians,
the ratio to the bare forward and the GPU speedup. --pretrained adds torchvision's FCN-ResNet50 and Mask R-CNN v2 with
random weights (generated in a temporary TORCH_HOME: same work as the real ones). For scale, the
notes quote 15 ms on a GPU vs 410 ms on a CPU for a 93M-parameter U-Net; --paper-unet times a
U-Net of about that size (depth 4, width 111: 93.3M) on a 512 × 512 input; with --record its medians are
stored for the segmentation page (cnnlab.measured).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time

import numpy as np
import torch
from PIL import Image

from cnnlab.measured import Timing, record_paper_unet


def machine_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return cpu


def median_ms(repeats: int, device: torch.device, fn, *args, **kwargs) -> float:
    """Median wall time of fn(*args, **kwargs) in ms, after 2 warm-up calls, synchronising CUDA."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(2):
        fn(*args, **kwargs)
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args, **kwargs)
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--pretrained", action="store_true")
    parser.add_argument("--paper-unet", action="store_true")
    parser.add_argument("--record", action="store_true", help="store the paper U-Net's medians for the page")
    args = parser.parse_args()
    os.environ["TORCH_HOME"] = tempfile.mkdtemp()
    from cnnlab import segmentation
    from cnnlab.shapes import draw_scene
    from cnnlab.unet import UNet
    from cnnlab.weights import checkpoint_path

    picture = Image.fromarray(draw_scene(12, 512, (3, 5)).image)
    jobs = [("lab.unet", "semantic"), ("lab.maskrcnn", "instance")]
    if args.pretrained:
        for name, task in [("fcn_resnet50.voc", "semantic"), ("maskrcnn_resnet50_fpn_v2.coco", "instance")]:
            path = checkpoint_path(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(segmentation.segmentation_registry()[name].build().state_dict(), path)
            jobs.append((name, task))
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}; CPU threads {torch.get_num_threads()}; 512² picture; medians of {args.repeats}")
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}")
    for name, task in jobs:
        line = f"{name:<32}"
        times = {}
        for device in devices:
            loaded = segmentation.get_segmentation_model(name, device)
            if task == "semantic":
                ours = median_ms(args.repeats, device, segmentation.segment, picture, name, device)
                size = segmentation.segment(picture, name, device).working_size
                x = torch.zeros(1, 3, size[1], size[0], device=device)
            else:
                ours = median_ms(args.repeats, device, segmentation.detect, picture, name, 0.5, 0.5, device)
                x = [torch.zeros(3, 512, 512, device=device).uniform_()]
            with torch.inference_mode():
                bare = median_ms(args.repeats, device, loaded.model, x)
            times[device.type] = ours
            line += f"  {device.type.upper()} {ours:8.1f} ms (bare forward {bare:8.1f} ms, ratio {ours / bare:4.2f})"
        if "cuda" in times:
            line += f"  speedup {times['cpu'] / times['cuda']:5.1f}×"
        print(line)
    if args.paper_unet:
        model = UNet(3, 2, depth=4, width=111).eval()
        line = f"{'U-Net ' + format(sum(p.numel() for p in model.parameters()) / 1e6, '.0f') + 'M, 512², forward':<32}"
        times = {}
        for device in devices:
            net, x = model.to(device), torch.zeros(1, 3, 512, 512, device=device)
            with torch.inference_mode():
                times[device.type] = median_ms(args.repeats, device, net, x)
            line += f"  {device.type.upper()} {times[device.type]:8.1f} ms"
            if args.record:
                record_paper_unet(
                    Timing(
                        device.type,
                        round(times[device.type], 1),
                        machine_name(device),
                        datetime.date.today().isoformat(),
                        sum(p.numel() for p in model.parameters()),
                        512,
                        torch.get_num_threads() if device.type == "cpu" else 0,
                    )
                )
        if "cuda" in times:
            line += f"  speedup {times['cpu'] / times['cuda']:5.1f}×"
        print(line)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
