"""Every widget of every page driven to its extremes: no exception, bounded CPU and memory.

For each page, every number input goes to its minimum and maximum, every text box gets hostile
text, every select box, radio and segmented control takes each option (a sample of long lists),
every slider its ends, every toggle both states — one after the other in one session, as a
student clicking around would. After each change the page must show no exception, and the run
must stay within CPU_LIMIT_S of CPU time and MEMORY_LIMIT_MB of new peak memory.
"""

from __future__ import annotations

import resource
import time

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from tests.pagehelpers import APP

CPU_LIMIT_S = 2.0
MEMORY_LIMIT_MB = 500
HOSTILE_TEXT = [
    "",
    "param.stride",
    "{name} {0} %s",
    "1e308 1e308\n1e308 1e308",
    "nan inf",
    "1 2 3\n4 5",
    "<script>alert(1)</script>",
    "9" * 1999,
    "1 " * 144 + "\n" + "1 " * 144,
    "\n".join(" ".join(["1"] * 12) for _ in range(12)),
]
PAGES = [
    "lessons/home.py",
    "lessons/convolution.py",
    "lessons/edges.py",
    "lessons/activations.py",
    "lessons/pooling.py",
    "lessons/transposed_convolution.py",
    "lessons/features.py",
    "lessons/architectures.py",
    "lessons/segmentation.py",
    "lessons/instances.py",
    "lessons/detection.py",
    "lessons/quiz.py",
    "lessons/training.py",
]


def _sample(options: list) -> list:
    """Every option of a short list; the ends and a few in between of a long one (1,000 ImageNet classes)."""
    if len(options) <= 8:
        return list(options)
    step = len(options) // 6
    return list(dict.fromkeys([*options[::step], options[-1]]))


def _moves(at: AppTest) -> list[tuple[str, str, object]]:
    """(widget kind, key, value) for every keyed widget on the page now."""
    moves = []
    for w in at.number_input:
        low = w.proto.min if w.proto.has_min else -1e9
        high = w.proto.max if w.proto.has_max else 1e9
        cast = int if w.proto.data_type == w.proto.INT else float
        moves += [("number_input", w.key, cast(low)), ("number_input", w.key, cast(high))]
    for kind in ("text_area", "text_input"):
        for w in getattr(at, kind):
            moves += [(kind, w.key, text) for text in HOSTILE_TEXT]
    for kind in ("selectbox", "radio", "segmented_control"):
        for w in getattr(at, kind):
            moves += [(kind, w.key, label) for label in _sample(list(w.options))]
    for w in at.slider:
        moves += [("slider", w.key, w.min), ("slider", w.key, w.max)]
    for w in at.select_slider:
        moves += [("select_slider", w.key, option) for option in _sample(list(w.options))]
    for kind in ("toggle", "checkbox"):
        for w in getattr(at, kind):
            moves += [(kind, w.key, True), (kind, w.key, False)]
    return [m for m in moves if m[1] and m[1] != "lang"]


def _apply(at: AppTest, kind: str, key: str, value) -> bool:
    try:
        widget = getattr(at, kind)(key=key)
    except KeyError:
        return False  # not on the page after an earlier move (e.g. another picture source)
    if kind in ("selectbox", "radio", "segmented_control"):
        if value not in widget.options:
            return False
        _choose(widget, value)
    else:
        widget.set_value(value)
    return True


def _choose(widget, label: str) -> None:
    """Select the option shown as `label`, as the browser does: it sends the label, not the value.

    AppTest's own set_value needs the option's value, which the page's format_func hides.
    """
    array = widget.type != "radio" and widget.type != "selectbox"

    class Chosen(type(widget)):
        @property
        def _widget_state(self) -> WidgetState:
            state = WidgetState()
            state.id = self.id
            if array:
                state.string_array_value.data[:] = [label]
            else:
                state.string_value = label
            return state

    widget.__class__ = Chosen


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("page", PAGES)
def test_every_widget_at_its_extremes(page):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, page
    moves = _moves(at)
    assert moves or page == "lessons/home.py", f"{page}: no widget found"
    slow, applied, seen = [], 0, set()
    while moves:  # widgets that appear after a move (a custom kernel box, another picture source) get a turn too
        seen |= {key for _, key, _ in moves}
        for kind, key, value in moves:
            if not _apply(at, kind, key, value):
                continue
            applied += 1
            before_cpu, before_mem, start = time.process_time(), _peak_mb(), time.perf_counter()
            at.run()
            cpu, grew = time.process_time() - before_cpu, _peak_mb() - before_mem
            assert not at.exception, f"{page}: {kind} {key} = {value!r}: {at.exception[0].value}"
            assert grew < MEMORY_LIMIT_MB, f"{page}: {kind} {key} = {value!r} took {grew:.0f} MB"
            if cpu > CPU_LIMIT_S:
                slow.append(
                    f"{kind} {key} = {str(value)[:40]!r}: {cpu:.1f} s CPU ({time.perf_counter() - start:.1f} s)"
                )
        moves = [m for m in _moves(at) if m[1] not in seen]
    assert not slow, f"{page}: " + "; ".join(slow)
    assert applied >= 0.5 * len(seen), f"{page}: only {applied} moves reached the page"
