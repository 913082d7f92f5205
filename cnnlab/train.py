"""Train the lab models on generated shapes and save them as safetensors in assets/models.

    python -m cnnlab.train classifier [--epochs N] [--device cuda]

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

from cnnlab.lab_models import SHAPES_CLASSIFIER_FILE, SHAPES_INPUT_SIZE, ShapesNet
from cnnlab.shapes import classification_batch

TRAIN_SEEDS = (0, 16_000)  # first seed, count
VALIDATION_SEEDS = (1_000_000, 2_000)  # never seen in training
BATCH = 32


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
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item()
        accuracy = evaluate(model, vx, vy, device)
        print(
            f"epoch {epoch + 1}/{epochs}: loss {total / (k + 1):.3f}, "
            f"validation accuracy {accuracy:.3f}, {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return model.eval().cpu(), accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=["classifier"])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model, accuracy = train_classifier(args.epochs, torch.device(args.device))
    SHAPES_CLASSIFIER_FILE.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"validation_accuracy": f"{accuracy:.4f}", "epochs": str(args.epochs), "trained_on": args.device}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, SHAPES_CLASSIFIER_FILE, metadata)
    print(f"saved {SHAPES_CLASSIFIER_FILE} (validation accuracy {accuracy:.3f})")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
