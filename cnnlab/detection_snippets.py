"""Short PyTorch programs that reproduce the detection lesson's step-throughs with torchvision.ops
(as cnnlab.snippets does for the other lessons): each leaves its result in `y` and prints it."""

from __future__ import annotations

import numpy as np

from cnnlab.snippets import _tensor
from cnnlab.steps import fmt

HEADER = "import torch\nimport torch.nn.functional as F\nfrom torchvision import ops\n\n"


def _boxes(name: str, boxes, comment: str) -> str:
    rows = ",\n".join("    [" + ", ".join(f"{float(v):.2f}" for v in box) + "]" for box in np.asarray(boxes))
    return f"{name} = torch.tensor([\n{rows},\n])  # {comment}\n"


def nms_code(boxes, scores, iou_threshold: float) -> str:
    """boxes (N, 4) xyxy, scores (N,) -> a script leaving the indices NMS keeps in y (best first)."""
    listed = ", ".join(f"{float(s):.4f}" for s in np.asarray(scores))
    return (
        HEADER
        + _boxes("boxes", boxes, "(N, 4) x1, y1, x2, y2")
        + f"scores = torch.tensor([{listed}])  # (N,)\n"
        + f"y = ops.nms(boxes, scores, iou_threshold={fmt(iou_threshold)})  # indices kept, best score first\n"
        + "print(y + 1)  # numbered from 1, as on the page when boxes are listed by score\n"
    )


def roi_code(feature, box, output_size: int, sampling_ratio: int, aligned: bool) -> str:
    """feature (H, W), box (4,) xyxy -> a script with RoI pooling in y_pool and RoIAlign in y."""
    corners = ", ".join(f"{float(v):g}" for v in box)
    return (
        HEADER
        + _tensor("feature", feature, "(H, W) feature map")
        + f"box = torch.tensor([[0, {corners}]], dtype=torch.float64)  # batch index, x1, y1, x2, y2\n"
        + f"y_pool = ops.roi_pool(feature[None, None], box, {output_size})[0, 0]\n"
        + f"y = ops.roi_align(feature[None, None], box, {output_size}, sampling_ratio={sampling_ratio}, "
        + f"aligned={aligned})[0, 0]\n"
        + "print(y_pool)\nprint(y)\n"
    )


def softmax_code(logits, target: int) -> str:
    """logits (C,), a target class -> a script with the probabilities in y and the loss printed."""
    listed = ", ".join(f"{float(v):.9g}" for v in np.asarray(logits))
    return (
        HEADER
        + f"z = torch.tensor([{listed}], dtype=torch.float64)  # (C,) logits\n"
        + "y = torch.softmax(z, dim=0)\n"
        + f"loss = F.cross_entropy(z[None], torch.tensor([{int(target)}]))\n"
        + "print(y.max(), loss)\n"
    )
