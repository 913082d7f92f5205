"""Step-throughs of the object-detection lesson as stepper traces (no Streamlit import).

NMS on a picture (boxes drawn over it, a table of scores, IoUs and verdicts), RoI pooling and RoIAlign
on a small feature map, and softmax with cross-entropy on a classifier's logits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from cnnlab.detection import NmsStep, RoiAlignStep, RoiPoolStep, SoftmaxSteps, box_iou
from cnnlab.steps import fmt
from ui.trace import Frame, Grid, Picture, Prediction, encode

Translate = Callable[..., str]
MAX_TERMS = 16  # cells listed in a RoI pooling max(...); a bigger bin is shortened around '…'


def _column(values: Sequence, dtype=np.float64) -> np.ndarray:
    """A list of cells -> a (N, 1) column grid."""
    return np.asarray(list(values), dtype=dtype).reshape(-1, 1)


def nms_trace(
    t: Translate,
    picture: Image.Image,
    boxes: np.ndarray,
    scores: np.ndarray,
    steps: Sequence[NmsStep],
    threshold: float,
    caption: str,
    score_text: Callable[[float], str],
    written: Callable[[float], str],
) -> dict:
    """Greedy NMS on `picture`: boxes (N, 4) xyxy in its pixels, scores (N,); one step per kept box.

    Boxes are named #1, #2, ... in score order (the order NMS visits them); the table's rows follow it.
    score_text writes a score (a trained RPN's objectness is often 0.99…: 3 significant digits say 1);
    written writes a number in a sentence, the page's language's way.
    """
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    n = len(order)
    grids = [
        Grid("nms-rank", "#", _column(rank[order]), "input"),
        Grid("nms-score", t("det.nms.col.score"), _column([score_text(v) for v in scores[order]], object), "input"),
        Grid("nms-iou", t("det.nms.col.iou"), np.zeros((n, 1)), "kernel", blank=True),
        Grid("nms-verdict", t("det.nms.col.verdict"), np.zeros((n, 1)), "output", blank=True),
    ]
    picture_item = Picture("nms-picture", caption, picture, boxes, [f"#{r}" for r in rank])
    verdicts = np.full((n, 1), None, dtype=object)
    in_play = set(range(n))  # box indices not yet kept or suppressed

    def styles(taken: int | None, suppressed: Sequence[int], kept: Sequence[int]) -> list[tuple[int, str]]:
        shown = [(int(i), "kept") for i in kept if i != taken]
        shown += [(int(i), "candidate") for i in sorted(in_play) if i != taken and i not in suppressed]
        shown += [(int(i), "suppressed") for i in suppressed]
        return shown + ([(taken, "taken")] if taken is not None else [])

    def frames():
        yield Frame(
            boxes={0: styles(None, (), ())},
            note=t("det.nms.start", count=n, threshold=written(threshold)),
        )
        row = {int(i): int(rank[i]) - 1 for i in range(n)}
        for s in steps:
            # first the choice (predict mode asks it: which box does NMS take next?), then what it removes
            yield Frame(
                windows={0: [(row[s.taken], 0)]},
                values={2: np.full((n, 1), np.nan)},
                note=t("det.nms.next", rank=int(rank[s.taken]), score=score_text(s.score)),
                boxes={0: styles(None, (), [i for i in s.kept if i != s.taken])},
                predict=Prediction([(0, row[s.taken], 0)], kind="where", question=t("det.nms.predict")),
            )
            others = sorted(in_play - {s.taken}, key=lambda i: row[i])
            ious = np.full((n, 1), np.nan)
            if others:
                ious[[row[i] for i in others], 0] = box_iou(boxes[[s.taken]], boxes[others])[0]
            verdicts[row[s.taken], 0] = t("det.nms.kept")
            for i in s.suppressed:
                verdicts[row[i], 0] = t("det.nms.suppressed", by=int(rank[s.taken]))
            gone = [i for i in others if i in s.suppressed]
            stay = [i for i in others if i not in s.suppressed]
            line = "\n".join(
                f"IoU(#{rank[s.taken]}, ·) {sign} {fmt(threshold)} → {t(word)}: " + _listed(group, rank, row, ious)
                for group, sign, word in ((gone, ">", "det.nms.line.removed"), (stay, "≤", "det.nms.line.stay"))
                if group
            )
            yield Frame(
                windows={0: [(row[s.taken], 0)], 1: [(row[s.taken], 0)], 2: [(row[i], 0) for i in s.suppressed]},
                values={2: ious, 3: verdicts.copy()},
                line=line,
                note=t("det.nms.step", rank=int(rank[s.taken]), score=score_text(s.score), count=len(s.suppressed)),
                boxes={0: styles(s.taken, s.suppressed, s.kept)},
            )
            in_play.difference_update({s.taken, *s.suppressed})

    kept = steps[-1].kept if steps else []
    names = ", ".join(f"#{rank[i]}" for i in kept)
    final = ("success", t("det.nms.final", kept=names, count=len(kept), total=n))
    return encode(grids, [[{"pic": 0}, 0, 1, 2, 3]], frames(), final, pictures=[picture_item])


def _listed(boxes: Sequence[int], rank: np.ndarray, row: dict, ious: np.ndarray, most: int = 8) -> str:
    """'#2 (0.98), #3 (0.91), …': boxes with their IoU, at most `most` of them."""
    shown = [f"#{rank[i]} ({fmt(ious[row[i], 0])})" for i in boxes[:most]]
    return ", ".join(shown + (["…"] if len(boxes) > most else []))


def _max_expression(feature: np.ndarray, cells: Sequence[tuple[int, int]], value: float) -> str:
    values = [fmt(feature[r, c]) for r, c in cells]
    if len(values) > MAX_TERMS:
        values = values[: MAX_TERMS // 2] + ["…"] + values[-MAX_TERMS // 2 :]
    return f"max({', '.join(values)}) = {fmt(value)}" if values else f"∅ → {fmt(value)}"


def roi_pool_trace(t: Translate, feature: np.ndarray, steps: Sequence[RoiPoolStep]) -> dict:
    """RoI pooling of one box on a (H, W) feature map: per output bin its cells and their maximum."""
    grids = [
        Grid("roi-pool-feature", t("det.roi.feature"), feature, "input"),
        Grid("roi-pool-output", t("det.roi.pool.output"), np.zeros(steps[-1].output.shape), "output", blank=True),
    ]
    frames = (
        Frame(
            windows={0: s.cells, 1: [s.bin]},
            values={1: np.where(s.filled, s.output, np.nan)},
            line=_max_expression(feature, s.cells, s.value),
            predict=Prediction([(1, *s.bin)], s.value),
            note=t(
                "det.roi.pool.step",
                row=s.bin[0] + 1,
                col=s.bin[1] + 1,
                rows=f"{s.rows[0] + 1}–{s.rows[1]}",
                cols=f"{s.cols[0] + 1}–{s.cols[1]}",
            )
            if s.cells
            else t("det.roi.pool.empty", row=s.bin[0] + 1, col=s.bin[1] + 1),
        )
        for s in steps
    )
    return encode(grids, [[0, "→", 1]], frames)


def _sample_line(feature: np.ndarray, p) -> str:
    """p(y, x) = w·v + ... = value for one bilinear sample (y, x on the feature map, cells counted from 0)."""
    if not p.cells:
        return f"p({fmt(p.y)}, {fmt(p.x)}) = 0"
    terms = " + ".join(f"{fmt(w)}·{fmt(feature[r, c])}" for w, (r, c) in zip(p.weights, p.cells, strict=True))
    return f"p({fmt(p.y)}, {fmt(p.x)}) = {terms} = {fmt(p.value)}"


def roi_align_trace(t: Translate, feature: np.ndarray, steps: Sequence[RoiAlignStep]) -> dict:
    """RoIAlign of one box on a (H, W) feature map: per output bin its sample points, the cells each
    reads (bilinear weights, cells as [row, col] from 1) and their mean."""
    grids = [
        Grid("roi-align-feature", t("det.roi.feature"), feature, "input"),
        Grid("roi-align-output", t("det.roi.align.output"), np.zeros(steps[-1].output.shape), "output", blank=True),
    ]

    def frame(s: RoiAlignStep) -> Frame:
        more = len(s.points) > 8
        lines = [_sample_line(feature, p) for p in s.points[:8]] + (["…"] if more else [])
        values = " + ".join(fmt(p.value) for p in s.points[:8]) + (" + …" if more else "")
        lines.append(f"({values}) / {s.count} = {fmt(s.value)}")
        return Frame(
            windows={0: [cell for p in s.points for cell in p.cells] or [(0, 0)], 1: [s.bin]},
            values={1: np.where(s.filled, s.output, np.nan)},
            line="\n".join(lines),
            note=t("det.roi.align.step", row=s.bin[0] + 1, col=s.bin[1] + 1, samples=len(s.points)),
            predict=Prediction([(1, *s.bin)], s.value),
        )

    return encode(grids, [[0, "→", 1]], (frame(s) for s in steps))


def softmax_trace(
    t: Translate, result: SoftmaxSteps, names: Sequence[str], shown: Sequence[int], written: Callable[[float], str]
) -> dict:
    """Softmax and cross-entropy, column by column, on the classes `shown` (indices into the logits).

    The sum and the probabilities are over every class, also those not shown (a 1000-class model);
    written writes a number in a sentence, the page's language's way.
    """
    rows = list(shown)
    count = len(result.logits)
    grids = [
        Grid("sm-class", t("det.sm.col.class"), _column([names[i] for i in rows], object), "input"),
        Grid("sm-logit", "z", _column(result.logits[rows]), "input"),
        Grid("sm-shifted", "z − max z", np.zeros((len(rows), 1)), "kernel", blank=True),
        Grid("sm-exp", "exp", np.zeros((len(rows), 1)), "contribution", blank=True),
        Grid("sm-p", "p", np.zeros((len(rows), 1)), "output", blank=True),
    ]
    shifted = _column(result.logits[rows] - result.shift)
    exps = _column(result.exp[rows])
    probabilities = _column(result.probabilities[rows])
    all_rows = [(r, 0) for r in range(len(rows))]
    last, second = len(rows) - 1, min(1, len(rows) - 1)  # the cells predict mode asks for
    target_row = rows.index(result.target) if result.target in rows else None
    total = t("det.sm.sum", total=written(result.total), count=count)
    frames = [
        Frame(windows={1: all_rows}, note=t("det.sm.logits", count=count)),
        Frame(
            windows={2: all_rows},
            values={2: shifted},
            line=f"max z = {fmt(result.shift)}",
            note=t("det.sm.shift"),
            predict=Prediction([(2, last, 0)], float(shifted[last, 0])),
        ),
        Frame(
            windows={3: all_rows},
            values={3: exps},
            line="exp(z − max z)",
            note=t("det.sm.exp"),
            predict=Prediction([(3, second, 0)], float(exps[second, 0])),
        ),
        Frame(windows={3: all_rows}, line=total, note=t("det.sm.total"), ops={"sum": total}),
        Frame(
            windows={4: all_rows},
            values={4: probabilities},
            line=f"p = exp / {fmt(result.total)}",
            note=t("det.sm.divide"),
            ops={"sum": total},
            predict=Prediction(
                [(4, 0, 0)], float(probabilities[0, 0]), line=f"p = {fmt(exps[0, 0])} / {fmt(result.total)}"
            ),
        ),
    ]
    final = None
    if result.target is not None and target_row is not None:
        p = result.probabilities[result.target]
        frames.append(
            Frame(
                windows={0: [(target_row, 0)], 4: [(target_row, 0)]},
                line=f"L = −log p = −log {fmt(p)} = {fmt(result.loss)}",
                note=t("det.sm.loss", name=names[result.target]),
                ops={"sum": total},
            )
        )
        final = ("success", t("det.sm.final", loss=written(result.loss), name=names[result.target]))
    return encode(grids, [[0, 1, 2, 3, {"op": "sum"}, 4]], frames, final)
