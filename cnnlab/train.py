"""Train the lab models on generated shapes and save them as safetensors in assets/models.

    python -m cnnlab.train classifier [--epochs N] [--device cuda]
    python -m cnnlab.train unet [--epochs N] [--device cuda]
    python -m cnnlab.train maskrcnn [--epochs N] [--device cuda]

Deterministic by seed on one device: the same command reproduces the shipped weights
(up to floating-point differences between CPU and GPU kernels).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from cnnlab.lab_models import (
    MASK_RCNN_FILE,
    MASK_RCNN_SIZE,
    SHAPES_CLASSIFIER_FILE,
    SHAPES_INPUT_SIZE,
    UNET_CONFIG,
    UNET_FILE,
    UNET_TRAIN_SIZE,
    ShapesNet,
    lab_mask_rcnn,
)
from cnnlab.segmentation import mean_iou
from cnnlab.shapes import classification_batch, detection_target, draw_scene, segmentation_batch
from cnnlab.unet import UNet

TRAIN_SEEDS = (0, 16_000)  # first seed, count
VALIDATION_SEEDS = (1_000_000, 2_000)  # never seen in training
BATCH = 32


def _optimise(loss: torch.Tensor, optimiser: torch.optim.Optimizer, schedule) -> float:
    """One training step on loss; returns its value."""
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    schedule.step()
    return loss.item()


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device) -> float:
    """Accuracy of model on (N, 3, H, W) images with (N,) labels."""
    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(images), 512):
            logits = model(images[start : start + 512].to(device))
            correct += (logits.argmax(1).cpu() == labels[start : start + 512]).sum().item()
    return correct / len(images)


def train_classifier(epochs: int, device: torch.device, seed: int = 0) -> tuple[ShapesNet, float]:
    torch.manual_seed(seed)
    x, y = (torch.from_numpy(a) for a in classification_batch(*TRAIN_SEEDS, size=SHAPES_INPUT_SIZE))
    vx, vy = (torch.from_numpy(a) for a in classification_batch(*VALIDATION_SEEDS, size=SHAPES_INPUT_SIZE))
    model = ShapesNet().to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Small batches: with 128 per step the task sat at chance for epochs; with 32 it learns within a few.
    steps = len(x) // BATCH
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=1e-3, total_steps=epochs * steps)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        started, total = time.perf_counter(), 0.0
        for k in range(steps):
            batch = order[k * BATCH : (k + 1) * BATCH]
            images = x[batch]
            flip = torch.rand(len(batch), generator=generator) < 0.5  # shapes have no handedness
            images[flip] = images[flip].flip(-1)
            loss = nn.functional.cross_entropy(model(images.to(device)), y[batch].to(device))
            total += _optimise(loss, optimiser, schedule)
        accuracy = evaluate(model, vx, vy, device)
        print(
            f"epoch {epoch + 1}/{epochs}: loss {total / (k + 1):.3f}, "
            f"validation accuracy {accuracy:.3f}, {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return model.eval().cpu(), accuracy


SEGMENTATION_TRAIN_SEEDS = (100_000, 6_000)
SEGMENTATION_VALIDATION_SEEDS = (3_000_000, 500)


def train_unet(epochs: int, device: torch.device, seed: int = 0) -> tuple[UNet, float]:
    """The lab U-Net on generated scenes of 1-4 shapes; returns it and its validation mIoU."""
    torch.manual_seed(seed)
    x, y = (torch.from_numpy(a) for a in segmentation_batch(*SEGMENTATION_TRAIN_SEEDS, size=UNET_TRAIN_SIZE))
    vx, vy = (torch.from_numpy(a) for a in segmentation_batch(*SEGMENTATION_VALIDATION_SEEDS, size=UNET_TRAIN_SIZE))
    model = UNet(**UNET_CONFIG).to(device)
    batch_size = 16
    steps = len(x) // batch_size
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=epochs * steps)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        started, total = time.perf_counter(), 0.0
        for k in range(steps):
            batch = order[k * batch_size : (k + 1) * batch_size]
            images, targets = x[batch], y[batch]
            if torch.rand(1, generator=generator) < 0.5:  # flips are free extra data for shapes
                images, targets = images.flip(-1), targets.flip(-1)
            loss = nn.functional.cross_entropy(model(images.to(device)), targets.to(device))
            total += _optimise(loss, optimiser, schedule)
        model.eval()
        with torch.inference_mode():
            predicted = torch.cat([model(vx[i : i + 100].to(device)).argmax(1).cpu() for i in range(0, len(vx), 100)])
        miou = mean_iou(predicted.numpy(), vy.numpy(), UNET_CONFIG["num_classes"])
        print(
            f"epoch {epoch + 1}/{epochs}: loss {total / steps:.3f}, validation mIoU {miou:.3f}, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return model.eval().cpu(), miou


DETECTION_TRAIN_SEEDS = (200_000, 4_000)
DETECTION_VALIDATION_SEEDS = (4_000_000, 200)


def _detection_data(first_seed: int, count: int) -> list[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    data = []
    for seed in range(first_seed, first_seed + count):
        scene = draw_scene(seed, MASK_RCNN_SIZE, (1, 4))
        target = {k: torch.from_numpy(v) for k, v in detection_target(scene).items()}
        data.append((torch.from_numpy(scene.image.copy()).permute(2, 0, 1).float() / 255, target))
    return data


def evaluate_instances(model: nn.Module, data, device: torch.device, score_threshold: float = 0.5) -> dict[str, float]:
    """Share of scenes with the right count and classes, and the mean mask IoU of greedily matched instances."""
    from cnnlab.segmentation import Instance, drop_covered, match_instances

    model.eval()
    right, ious = 0, []
    with torch.inference_mode():
        for start in range(0, len(data), 16):
            chunk = data[start : start + 16]
            outputs = model([image.to(device) for image, _ in chunk])
            for (_, target), out in zip(chunk, outputs, strict=True):
                found = [
                    Instance("", int(label), float(score), (0, 0, 0, 0), (mask[0] > 0.5).cpu().numpy())
                    for label, score, mask in zip(out["labels"], out["scores"], out["masks"], strict=True)
                    if score > score_threshold
                ]
                found = drop_covered(found)  # as cnnlab.segmentation.detect does for the lab model
                masks = np.stack([i.mask for i in found]) if found else np.zeros((0, *target["masks"].shape[1:]), bool)
                labels = np.array([i.label_index for i in found], dtype=np.int64)
                matched = match_instances(masks, labels, target["masks"].numpy().astype(bool), target["labels"].numpy())
                ious += [iou for iou, same_class in matched if same_class]
                right += len(labels) == len(target["labels"]) and all(same for _, same in matched)
    return {"scenes_right": right / len(data), "mask_iou": float(np.mean(ious)) if ious else 0.0}


def train_maskrcnn(epochs: int, device: torch.device, seed: int = 0) -> tuple[nn.Module, dict[str, float]]:
    """The lab Mask R-CNN on generated scenes of 1-4 shapes at 128 × 128."""
    torch.manual_seed(seed)
    train, validation = _detection_data(*DETECTION_TRAIN_SEEDS), _detection_data(*DETECTION_VALIDATION_SEEDS)
    model = lab_mask_rcnn().to(device)
    batch_size = 8
    steps = len(train) // batch_size
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=1e-3, total_steps=epochs * steps, pct_start=0.15)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train), generator=generator).tolist()
        started, total = time.perf_counter(), 0.0
        for k in range(steps):
            batch = [train[i] for i in order[k * batch_size : (k + 1) * batch_size]]
            images = [image.to(device) for image, _ in batch]
            targets = [{key: value.to(device) for key, value in target.items()} for _, target in batch]
            loss = sum(model(images, targets).values())
            total += _optimise(loss, optimiser, schedule)
        scores = evaluate_instances(model, validation, device)
        print(
            f"epoch {epoch + 1}/{epochs}: loss {total / steps:.3f}, scenes right {scores['scenes_right']:.3f}, "
            f"mask IoU {scores['mask_iou']:.3f}, {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return model.eval().cpu(), scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=["classifier", "unet", "maskrcnn"])
    parser.add_argument("--epochs", type=int, default=None, help="default: 12 (classifier), 20 (unet), 5 (maskrcnn)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    device = torch.device(args.device)
    if args.model == "classifier":
        epochs = args.epochs or 12
        model, score = train_classifier(epochs, device)
        target, metric = SHAPES_CLASSIFIER_FILE, "validation_accuracy"
    elif args.model == "unet":
        epochs = args.epochs or 20
        model, score = train_unet(epochs, device)
        target, metric = UNET_FILE, "validation_miou"
    else:
        epochs = args.epochs or 5
        model, scores = train_maskrcnn(epochs, device)
        target, metric, score = MASK_RCNN_FILE, "validation_mask_iou", scores["mask_iou"]
    target.parent.mkdir(parents=True, exist_ok=True)
    metadata = {metric: f"{score:.4f}", "epochs": str(epochs), "trained_on": args.device}
    if args.model == "maskrcnn":
        metadata["validation_scenes_right"] = f"{scores['scenes_right']:.4f}"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, target, metadata)
    print(f"saved {target} ({metric} {score:.3f})")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
