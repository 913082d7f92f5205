"""Short PyTorch programs that reproduce a lesson's current settings and result.

Each function returns the source of a runnable script that imports torch, builds the page's
matrices as tensors, calls torch.nn.functional once and leaves the (H, W) result in `y`
(and prints it). Tests execute every snippet and compare `y` with the page's result.
The comments are in the page's language: pass its translator as `t` (English without one).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlab.i18n import translator
from cnnlab.steps import fmt

Translate = Callable[..., str]

HEADER = "import torch\nimport torch.nn.functional as F\n\n"


def _tensor(name: str, m, comment: str) -> str:
    """`name = torch.tensor([...], dtype=torch.float64)` with one row per line; comment states the shape."""
    m = np.asarray(m, dtype=np.float64)
    if m.ndim == 2:
        rows = ",\n".join("    [" + ", ".join(fmt(v) for v in row) + "]" for row in m)
        return f"{name} = torch.tensor([\n{rows},\n], dtype=torch.float64)  # {comment}\n"
    blocks = ",\n".join(
        "    [\n" + ",\n".join("        [" + ", ".join(fmt(v) for v in row) + "]" for row in ch) + ",\n    ]"
        for ch in m
    )
    return f"{name} = torch.tensor([\n{blocks},\n], dtype=torch.float64)  # {comment}\n"


def _words(t: Translate | None) -> Translate:
    return t or translator("en")


def conv2d_code(x, w, *, stride: int = 1, padding: int = 0, dilation: int = 1, t: Translate | None = None) -> str:
    """x: (H, W) input, w: (K_h, K_w) kernel -> a script computing F.conv2d into y (H_out, W_out)."""
    t = _words(t)
    return (
        HEADER
        + _tensor("x", x, t("code.input"))
        + _tensor("w", w, t("code.kernel"))
        + f"# {t('code.conv2d_shapes')}\n"
        + f"y = F.conv2d(x[None, None], w[None, None], stride={stride}, padding={padding}, dilation={dilation})[0, 0]\n"
        + "print(y)\n"
    )


def rgb_conv2d_code(
    x, w, *, bias: float, activation: str, stride: int = 1, padding: int = 0, t: Translate | None = None
) -> str:
    """x: (C, H, W), w: (C, K, K): one filter over all channels, + bias, then the activation, into y."""
    t = _words(t)
    act = {"relu": "torch.relu(z)", "sigmoid": "torch.sigmoid(z)", "tanh": "torch.tanh(z)", "none": "z"}[activation]
    return (
        HEADER
        + _tensor("x", x, t("code.rgb_input"))
        + _tensor("w", w, t("code.rgb_filter"))
        + f"b = torch.tensor([{fmt(bias)}], dtype=torch.float64)\n"
        + f"z = F.conv2d(x[None], w[None], bias=b, stride={stride}, padding={padding})[0, 0]\n"
        + f"y = {act}\n"
        + "print(y)\n"
    )


def conv_transpose2d_code(
    x, w, *, stride: int = 1, padding: int = 0, output_padding: int = 0, t: Translate | None = None
) -> str:
    """x: (H, W), w: (K_h, K_w) -> a script computing F.conv_transpose2d into y."""
    t = _words(t)
    return (
        HEADER
        + _tensor("x", x, t("code.input"))
        + _tensor("w", w, t("code.kernel"))
        + f"# {t('code.tconv_shapes')}\n"
        + "y = F.conv_transpose2d(\n"
        + f"    x[None, None], w[None, None], stride={stride}, padding={padding}, output_padding={output_padding}\n"
        + ")[0, 0]\n"
        + "print(y)\n"
    )


def pool2d_code(
    x, kernel_size: int, *, stride: int, padding: int = 0, mode: str = "max", t: Translate | None = None
) -> str:
    """x: (H, W) -> a script computing F.max_pool2d or F.avg_pool2d into y."""
    function = {"max": "max_pool2d", "avg": "avg_pool2d"}[mode]
    return (
        HEADER
        + _tensor("x", x, _words(t)("code.input"))
        + f"y = F.{function}(x[None, None], kernel_size={kernel_size}, stride={stride}, padding={padding})[0, 0]\n"
        + "print(y)\n"
    )


def unpool_code(x, values, kernel_size: int, t: Translate | None = None) -> str:
    """Max pooling of x remembers where each maximum was; max_unpool2d puts `values` back there, into y."""
    t = _words(t)
    return (
        HEADER
        + _tensor("x", x, t("code.pooled_input"))
        + _tensor("values", values, t("code.unpool_values"))
        + f"pooled, indices = F.max_pool2d(x[None, None], {kernel_size}, return_indices=True)\n"
        + f"y = F.max_unpool2d(values[None, None], indices, {kernel_size}, output_size=x.shape)[0, 0]\n"
        + "print(y)\n"
    )


def interpolate_code(
    x, size: tuple[int, int], *, mode: str, align_corners: bool = False, t: Translate | None = None
) -> str:
    """x: (H, W) -> a script computing F.interpolate to `size` with `mode` ('nearest' or 'bilinear') into y."""
    corners = f", align_corners={align_corners}" if mode == "bilinear" else ""
    return (
        HEADER
        + _tensor("x", x, _words(t)("code.input"))
        + f"y = F.interpolate(x[None, None], size={tuple(size)}, mode={mode!r}{corners})[0, 0]\n"
        + "print(y)\n"
    )


def run_snippet(code: str) -> np.ndarray:
    """Execute a snippet (trusted: written by this module) and return its y as a NumPy array."""
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102 - the code is generated above, never typed in
    return namespace["y"].detach().numpy()
