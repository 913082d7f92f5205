"""Once per server process, before the first page: the heavy imports, then gc.freeze().

Streamlit runs every session's script in one process. torch, torchvision and Plotly leave about
390,000 objects that live as long as the process; every full garbage collection walks them all
(0.2–0.5 s holding the GIL, for each student's rerun when runner.postScriptGC is on). gc.freeze()
moves what exists after start-up into a permanent generation that collections skip, while the
collector keeps working on what the sessions allocate. BENCHMARKS.md has the measurements behind
this choice. CNNLAB_GC_FREEZE=0 turns it off (for those measurements).
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading

_lock = threading.Lock()
_prepared = False


def prepare_process() -> None:
    """Import what every page needs and freeze the objects that now exist; later calls return at once."""
    global _prepared
    if _prepared:
        return
    with _lock:
        if _prepared:
            return
        # pandas too: Plotly imports it lazily inside a figure, and fifteen sessions drawing their first
        # figure at once on a fresh replica met it half-imported ("partially initialized module 'pandas'")
        import pandas  # noqa: F401
        import plotly.graph_objects  # noqa: F401 - imported for its objects, frozen below
        import torchvision  # noqa: F401

        import cnnlab.features  # noqa: F401
        import cnnlab.segmentation  # noqa: F401
        import ui.plots  # noqa: F401

        if os.environ.get("CNNLAB_GC_FREEZE", "1") != "0":
            gc.collect()
            gc.freeze()
        _limit_malloc_arenas()
        _prepared = True


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates its own heap arena (up to 8 per core), and Streamlit runs
    every session in a thread: freed picture-sized buffers then stay spread over dozens of arenas and
    the process never shrinks. Two arenas keep the memory reusable (mallopt M_ARENA_MAX; no-op elsewhere)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass
