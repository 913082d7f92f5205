"""Pictures with boxes in a step-through: what the browser receives, and the GIF export drawing them."""

import io

import numpy as np
from PIL import Image, ImageColor

from ui.frame_image import BOX_INKS, trace_gif
from ui.trace import PICTURE_SIDE, Frame, Grid, Picture, encode, signature


def picture_trace(size=(800, 400), styles=("taken", "suppressed")) -> dict:
    image = Image.new("RGB", size, (230, 230, 230))
    boxes = np.array([[100, 50, 300, 250], [400, 100, 700, 380]], dtype=float)
    frames = [
        Frame(boxes={0: [(0, "candidate"), (1, "candidate")]}),
        Frame(boxes={0: [(0, styles[0]), (1, styles[1])]}, note="step 2"),
    ]
    grid = Grid("scores", "score", np.array([[0.9], [0.8]]))
    return encode([grid], [[{"pic": 0}, 0]], frames, pictures=[Picture("pic", "boxes", image, boxes, ["#1", "#2"])])


def test_a_picture_is_sent_once_scaled_with_its_boxes():
    trace = picture_trace()
    (picture,) = trace["pictures"]
    assert picture["w"] == PICTURE_SIDE and picture["h"] == 280  # 800 × 400 scaled to 560 wide
    assert picture["b"][0] == [70.0, 35.0, 210.0, 175.0] and picture["l"] == ["#1", "#2"]
    assert picture["src"].startswith("data:image/jpeg;base64,")
    assert trace["steps"][1]["x"] == [[0, [0, "taken", 1, "suppressed"]]]
    assert "x" in trace["steps"][0]


def test_the_signature_follows_the_boxes_shown():
    assert signature(picture_trace()) != signature(picture_trace(styles=("kept", "suppressed")))
    assert signature(picture_trace()) == signature(picture_trace())


def test_text_cells_are_sent_as_they_are():
    frames = [Frame(values={0: np.array([["kept"], [None]], dtype=object)})]
    trace = encode([Grid("verdict", "v", np.zeros((2, 1)), blank=True)], [[0]], frames)
    assert trace["steps"][0]["s"] == [[0, 0, 0, "kept"]]


def test_the_gif_draws_the_picture_and_each_steps_boxes():
    gif = Image.open(io.BytesIO(trace_gif(picture_trace(), "fast")))
    frames = []
    for k in range(gif.n_frames):
        gif.seek(k)
        frames.append(np.asarray(gif.convert("RGB")))
    taken = np.array(ImageColor.getrgb(BOX_INKS["taken"][0]))
    candidate = np.array(ImageColor.getrgb(BOX_INKS["candidate"][0]))

    def has(frame, colour):
        return bool(np.all(frame == colour, axis=-1).sum() > 200)

    assert has(frames[0], candidate) and not has(frames[0], taken)
    assert has(frames[1], taken)
    grey = np.all(np.abs(frames[0].astype(int) - 230) <= 6, axis=-1).sum()
    assert grey > 100_000  # the picture itself is in every frame
