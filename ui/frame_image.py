"""A stepper trace drawn with Pillow: every step as a frame of an animated GIF (no Streamlit import).

Frames are drawn straight into a palette image in the app's colours (ui/matrix_html.ROLE_COLOURS),
so the GIF needs no colour quantisation and costs a few milliseconds a frame.
"""

from __future__ import annotations

import base64
import io
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from ui.matrix_html import HIGHLIGHT, ROLE_COLOURS
from ui.trace import replay

FONT = Path(__file__).resolve().parent.parent / "assets" / "fonts" / "DejaVuSans.ttf"
MAX_GIF_FRAMES = 400  # longer traces keep every k-th step (and the last), and the caller says so
SPEEDS = {"slow": 1.6, "normal": 0.9, "fast": 0.4}  # seconds per step, as in the browser stepper

_INKS = ["#ffffff", "#111111", "#adb5bd", HIGHLIGHT, "#6c757d", "#5f3dc4", "#f1f3f5"]
# Boxes over a picture, as in the browser (ui/stepper.py's .bx-* styles): colour and line width.
BOX_INKS = {
    "candidate": ("#4dabf7", 2),
    "taken": (HIGHLIGHT, 5),
    "kept": ("#2f9e44", 4),
    "suppressed": ("#868e96", 2),
    "object": ("#f59f00", 4),
    "anchor": ("#7048e8", 2),
}
PALETTE_COLOURS = list(
    dict.fromkeys(_INKS + [bg for bg, _ in ROLE_COLOURS.values()] + [c for c, _ in BOX_INKS.values()])
)
_INDEX = {c: i for i, c in enumerate(PALETTE_COLOURS)}
PICTURE_COLOURS = 256 - len(PALETTE_COLOURS)  # a photo is quantised into the rest of the GIF's palette


def _palette(picture_palette: list[int] = ()) -> list[int]:
    flat = [v for c in PALETTE_COLOURS for v in ImageColor.getrgb(c)] + list(picture_palette)
    return flat + [0] * (768 - len(flat))


def _quantised_pictures(trace: dict) -> tuple[list[np.ndarray], list[int]]:
    """Each picture of the trace as palette indices into one shared palette after the app's colours.

    The pictures are quantised together (side by side) so that they share PICTURE_COLOURS entries.
    """
    images = [
        Image.open(io.BytesIO(base64.b64decode(p["src"].split(",", 1)[1]))).convert("RGB")
        for p in trace.get("pictures", [])
    ]
    if not images:
        return [], []
    strip = Image.new("RGB", (sum(i.width for i in images), max(i.height for i in images)))
    x = 0
    for i in images:
        strip.paste(i, (x, 0))
        x += i.width
    quantised = strip.quantize(colors=PICTURE_COLOURS, method=Image.Quantize.MEDIANCUT)
    indices = np.asarray(quantised, dtype=np.uint8) + len(PALETTE_COLOURS)
    out, x = [], 0
    for i in images:
        out.append(indices[: i.height, x : x + i.width])
        x += i.width
    return out, quantised.getpalette()[: 3 * PICTURE_COLOURS]


class _Layout:
    """Where every grid, cell and operator of a trace goes, computed once for all frames."""

    def __init__(self, trace: dict, font_size: int):
        self.font = ImageFont.truetype(str(FONT), font_size)
        self.caption_font = ImageFont.truetype(str(FONT), round(font_size * 0.7))
        self.cell = round(font_size * 2.3)
        self.gap = round(font_size * 0.9)
        pad = self.gap
        self.items = []  # (kind, x, y, payload)
        self.font_size = font_size
        self.trace = trace
        self.pictures, self.picture_palette = _quantised_pictures(trace)
        width, y = self._rows(trace["rows"], pad, pad)
        self.text_y = y
        self.width = max(width + pad, 900)
        self.chars = int(self.width / (0.6 * self.caption_font.size))  # wrap long products lines to the picture
        lines = max(len(self.lines(step)) for step in trace["steps"])
        self.line_height = round(font_size * 1.0)
        self.size = (self.width, y + lines * self.line_height + pad)

    def _rows(self, rows: list, x0: int, y: int) -> tuple[int, int]:
        """Place rows from (x0, y) down; returns (right edge, bottom) of what was placed."""
        right = x0
        for row in rows:
            x, row_h, ops = x0, 0, []
            for item in row:
                if isinstance(item, int):
                    h, w = len(self.trace["grids"][item]["v"]), len(self.trace["grids"][item]["v"][0])
                    self.items.append(("grid", x, y, item))
                    caption = self.caption_font.getlength(self.trace["grids"][item]["c"])
                    x += max(w * self.cell, round(caption)) + self.gap
                    row_h = max(row_h, round(self.font_size * 1.1) + h * self.cell)
                elif isinstance(item, dict) and "pic" in item:
                    picture = self.trace["pictures"][item["pic"]]
                    self.items.append(("pic", x, y, item["pic"]))
                    x += picture["w"] + self.gap
                    row_h = max(row_h, round(self.font_size * 1.1) + picture["h"])
                elif isinstance(item, dict) and "stack" in item:
                    stack_right, stack_bottom = self._rows(item["stack"], x, y)
                    x, row_h = stack_right, max(row_h, stack_bottom - y - self.gap)
                else:
                    ops.append((x, item))
                    x += round(self.font_size * 1.6) + self.gap
            # operators sit at the row's middle height, as in the browser (align-self: center)
            self.items += [("op", ox, y + row_h // 2, item) for ox, item in ops]
            right = max(right, x)
            y += row_h + self.gap
        return right, y

    def lines(self, step: dict) -> list[str]:
        """The sentence and the arithmetic of a step, wrapped to the picture's width."""
        texts = [step.get("n", ""), *step.get("t", "").split("\n")]
        return [part for text in texts if text for part in textwrap.wrap(text, self.chars)]


def _draw(layout: _Layout, trace: dict, texts, windows, step: dict) -> Image.Image:
    image = Image.new("P", layout.size, _INDEX["#ffffff"])
    image.putpalette(_palette(layout.picture_palette))
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"  # palette image: crisp text, no anti-aliasing colours
    fs = layout.font.size
    shown_boxes = {p: flat for p, flat in step.get("x", [])}
    for kind, x, y, item in layout.items:
        if kind == "pic":
            picture = trace["pictures"][item]
            draw.text((x, y), picture["c"], font=layout.caption_font, fill=_INDEX["#111111"])
            top = y + round(fs * 1.1)
            image.paste(Image.fromarray(layout.pictures[item], mode="P"), (x, top))
            flat = shown_boxes.get(item, [])
            for box, style in zip(flat[::2], flat[1::2], strict=True):
                colour, width = BOX_INKS[style]
                x1, y1, x2, y2 = picture["b"][box]
                draw.rectangle((x + x1, top + y1, x + x2, top + y2), outline=_INDEX[colour], width=width)
            continue
        if kind == "op":
            text = item if isinstance(item, str) else (step.get("o") or {}).get(item["op"], "")
            draw.text((x + fs * 0.8, y), text, font=layout.font, fill=_INDEX["#111111"], anchor="mm")
            continue
        grid = trace["grids"][item]
        draw.text((x, y), grid["c"], font=layout.caption_font, fill=_INDEX["#111111"])
        top = y + round(fs * 1.1)
        framed = windows.get(item, set())
        for r, row in enumerate(texts[item]):
            for c, text in enumerate(row):
                role = "pending" if text == "" else (grid["r"] if isinstance(grid["r"], str) else grid["r"][r][c])
                background, ink = ROLE_COLOURS[role]
                if grid["d"] and framed and (r, c) not in framed:
                    background = "#f1f3f5"
                x0, y0 = x + c * layout.cell, top + r * layout.cell
                box = (x0, y0, x0 + layout.cell, y0 + layout.cell)
                draw.rectangle(box, fill=_INDEX[background], outline=_INDEX["#adb5bd"])
                draw.text(
                    (x0 + layout.cell / 2, y0 + layout.cell / 2), text, font=layout.font, fill=_INDEX[ink], anchor="mm"
                )
        for r, c in framed:
            x0, y0 = x + c * layout.cell, top + r * layout.cell
            draw.rectangle((x0, y0, x0 + layout.cell, y0 + layout.cell), outline=_INDEX[HIGHLIGHT], width=4)
    for k, text in enumerate(layout.lines(step)):
        draw.text(
            (layout.gap, layout.text_y + k * layout.line_height), text, font=layout.caption_font, fill=_INDEX["#111111"]
        )
    return image


def gif_steps(n_steps: int) -> list[int]:
    """The 0-based steps a GIF shows: all of them, or every k-th and the last beyond MAX_GIF_FRAMES."""
    if n_steps <= MAX_GIF_FRAMES:
        return list(range(n_steps))
    every = -(-n_steps // MAX_GIF_FRAMES)
    return sorted(set(range(0, n_steps, every)) | {n_steps - 1})


def trace_gif(trace: dict, speed: str = "normal", font_size: int = 28) -> bytes:
    """The trace as an animated GIF at lecture size, one frame per step, `speed` seconds a step."""
    layout = _Layout(trace, font_size)
    keep = set(gif_steps(len(trace["steps"])))
    frames = [
        _draw(layout, trace, texts, windows, trace["steps"][i]) for i, texts, windows in replay(trace) if i in keep
    ]
    out = io.BytesIO()
    frames[0].save(
        out, format="GIF", save_all=True, append_images=frames[1:], duration=round(SPEEDS[speed] * 1000), loop=0
    )
    return out.getvalue()
