"""Training runs shared by a whole lecture hall: one training per settings, a few at a time, cached.

A server process has one TrainingHall. A session that presses Train calls hall.join(settings,
viewer): the first one starts a background thread that trains (cnnlab.training.train) and appends
one record per epoch; every later session with the same settings, while it trains or after it has
finished, gets the same SharedRun and reads the same records. So 200 students pressing Train with
the same settings cost one training. At most `max_running` trainings run at once; the others wait
in a first-come queue whose place each run knows. Finished runs are kept in a bounded LRU.

Stopping: a viewer who presses Stop stops watching; the training itself stops only when nobody
else is watching it (a hall's shared run goes on for the others). A stopped run is not kept.
No Streamlit here: the pages poll SharedRun.snapshot().
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import torch

from cnnlab.errors import LessonInputError
from cnnlab.training import EpochRecord, TrainSettings, train

MAX_QUEUE = 64  # runs waiting at most; beyond, Train is refused with a message until some finish


def settings_key(settings: TrainSettings) -> str:
    """A short stable name of the settings (the same in every process): the run's id on the page."""
    return hashlib.sha1(repr(settings).encode()).hexdigest()[:10]


@dataclass
class Snapshot:
    """What a page needs to draw a run at one moment (records shared, never changed once appended)."""

    key: str
    state: str  # "queued", "running", "done", "stopped", "failed"
    records: list[EpochRecord]
    step: int
    total_steps: int
    queue_place: int | None  # 1 = next to start; None when not waiting
    queue_length: int
    watchers: int
    error: LessonInputError | None
    device: str


@dataclass
class SharedRun:
    settings: TrainSettings
    key: str
    state: str = "queued"
    records: list[EpochRecord] = field(default_factory=list)
    step: int = 0
    total_steps: int = 0
    watchers: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    error: LessonInputError | None = None
    device: str = "cpu"
    hall: TrainingHall | None = None

    def snapshot(self) -> Snapshot:
        hall = self.hall
        place, length = hall.queue_place(self) if hall else (None, 0)
        return Snapshot(
            self.key,
            self.state,
            list(self.records),
            self.step,
            self.total_steps,
            place,
            length,
            len(self.watchers),
            self.error,
            self.device,
        )

    @property
    def finished(self) -> bool:
        return self.state in ("done", "stopped", "failed")


class TrainingHall:
    """The process's shared runs: start or join by settings, a bounded number at once, finished ones cached."""

    def __init__(self, max_running: int = 2, keep: int = 48, device: torch.device | None = None):
        self.max_running, self.keep = max_running, keep
        self.device = device
        self._lock = threading.Condition()
        self._active: dict[TrainSettings, SharedRun] = {}  # queued or running
        self._finished: OrderedDict[TrainSettings, SharedRun] = OrderedDict()
        self._queue: deque[SharedRun] = deque()
        self._running = 0
        self.trainings_started = 0  # every training this process began (the load test reads it from the page)

    def find(self, settings: TrainSettings) -> SharedRun | None:
        """The run of these settings, training or finished and kept, without starting one."""
        with self._lock:
            run = self._active.get(settings) or self._finished.get(settings)
            if run is not None and settings in self._finished:
                self._finished.move_to_end(settings)
            return run

    def join(self, settings: TrainSettings, viewer: str) -> SharedRun:
        """The run of these settings, started now if there is none; viewer watches it from now on.

        LessonInputError for impossible settings, or ("train.error.busy") when the queue is full.
        """
        settings = settings.checked()
        with self._lock:
            run = self._active.get(settings) or self._finished.get(settings)
            if run is None:
                if len(self._queue) >= MAX_QUEUE:
                    raise LessonInputError("train.error.busy", queue=len(self._queue))
                run = SharedRun(settings, settings_key(settings), hall=self)
                self._active[settings] = run
                self._queue.append(run)
                self.trainings_started += 1
                threading.Thread(target=self._work, args=(run,), name=f"train-{run.key}", daemon=True).start()
            elif settings in self._finished:
                self._finished.move_to_end(settings)
            if not run.finished:
                run.watchers.add(viewer)
            return run

    def leave(self, run: SharedRun, viewer: str) -> None:
        """viewer no longer watches (its page moved on); the training goes on."""
        with self._lock:
            run.watchers.discard(viewer)

    def stop(self, run: SharedRun, viewer: str) -> bool:
        """viewer pressed Stop: it stops watching; True if nobody else watched, so the training stops too."""
        with self._lock:
            run.watchers.discard(viewer)
            if run.finished or run.watchers:
                return False
            run.stop.set()
            if run.state == "queued":  # never started: leave the queue at once
                self._queue.remove(run)
                self._end(run, "stopped")
                self._lock.notify_all()
            return True

    def queue_place(self, run: SharedRun) -> tuple[int | None, int]:
        with self._lock:
            length = len(self._queue)
            if run.state != "queued":
                return None, length
            for place, waiting in enumerate(self._queue, start=1):
                if waiting is run:
                    return place, length
            return None, length

    def running(self) -> int:
        with self._lock:
            return self._running

    def _end(self, run: SharedRun, state: str) -> None:
        """Under the lock: the run is finished; kept for later viewers only if it trained to its end."""
        run.state = state
        self._active.pop(run.settings, None)
        if state == "done":
            self._finished[run.settings] = run
            while len(self._finished) > self.keep:
                self._finished.popitem(last=False)

    def _work(self, run: SharedRun) -> None:
        with self._lock:
            while not run.stop.is_set() and not (self._queue[0] is run and self._running < self.max_running):
                self._lock.wait(timeout=1.0)
            if run.stop.is_set():
                return  # stop() has taken it out of the queue
            self._queue.popleft()
            self._running += 1
            run.state = "running"
            self._lock.notify_all()  # the next in the queue may start too
        state = "failed"
        try:
            state = self._train(run)
        except LessonInputError as err:
            run.error = err
        except Exception as err:  # noqa: BLE001 - a failed run says so on the page, the server goes on
            run.error = LessonInputError("train.error.failed", reason=type(err).__name__)
        finally:
            with self._lock:
                self._running -= 1
                self._end(run, state)
                self._lock.notify_all()

    def _train(self, run: SharedRun) -> str:
        device = self.device or _training_device()
        run.device = device.type

        def progress(step: int, total: int) -> None:
            run.step, run.total_steps = step, total

        try:
            for record in train(run.settings, stop=run.stop, progress=progress, device=device):
                run.records.append(record)
        except torch.OutOfMemoryError:  # a busy GPU: the same run again on the CPU
            torch.cuda.empty_cache()
            run.records.clear()
            run.device = "cpu"
            for record in train(run.settings, stop=run.stop, progress=progress, device=torch.device("cpu")):
                run.records.append(record)
        return "stopped" if run.stop.is_set() else "done"


def _training_device() -> torch.device:
    from cnnlab.device import best_device

    device = best_device()
    if device.type == "cuda":
        # the same settings must give the same records: cuDNN's fastest kernels are not deterministic
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return device


_hall: TrainingHall | None = None
_hall_lock = threading.Lock()


def hall() -> TrainingHall:
    """The process's TrainingHall; CNNLAB_MAX_TRAININGS trainings at once (default 2)."""
    global _hall
    with _hall_lock:
        if _hall is None:
            _hall = TrainingHall(max_running=max(1, int(os.environ.get("CNNLAB_MAX_TRAININGS", "2"))))
        return _hall


def wait(run: SharedRun, timeout: float = 120.0) -> Snapshot:
    """Block until the run has finished (for scripts and tests); its last snapshot."""
    deadline = time.monotonic() + timeout
    while not run.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    return run.snapshot()
