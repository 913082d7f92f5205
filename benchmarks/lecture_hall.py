"""Lecture-hall load test: N simulated students on one CNN Lab server, at Streamlit's websocket protocol.

    python -m benchmarks.lecture_hall --scenario open --students 30
    python -m benchmarks.lecture_hall --scenario tweak --students 10 --duration 20 [--widget conv.stride --values 1,2]
    python -m benchmarks.lecture_hall --scenario tweak --page transposed-convolution \\
        --widget tconv.preset --values W9,W10,W11
    python -m benchmarks.lecture_hall --scenario step --students 10 --duration 20
    python -m benchmarks.lecture_hall --scenario upload --students 5 --duration 20 [--upload photo.jpg]
    python -m benchmarks.lecture_hall --scenario train --students 30

Starts `streamlit run app.py` on a free local port (or attaches to --url, 127.0.0.1 only); every student is
a websocket session that speaks the browser's protobufs. open: GET /_stcore/health (the _streamlit_xsrf
cookie), /_stcore/stream with the subprotocols ["streamlit", cookie], rerun_script{page_name}; the reply's
navigation gives the page_script_hash for later reruns. tweak: rerun_script{page_script_hash, fragment_id,
widget_states: [the one widget changed]} (the server keeps the others); widget ids "$$ID-<hash>-<key>" come
from the deltas; choices take their displayed label (the label a value equals, else the first it starts with).
step: the "cnnlab_stepper" component steps in the browser, so the student checks the trace arrived and sends
nothing. upload: file_urls_request, HTTP PUT, rerun_script with file_uploader_state_value, after switching
the image picker to "Upload". train: each student presses Train once (a button: widget state trigger_value)
on /training within --every seconds of the others, and waits for the run that trains (or watches the shared
training) to end; the page's caption names the run and the trainings the server has started, which the
report counts. No cached_message_hashes are reported, so no message comes as a ref_hash.

One session opens the page before the students come (a warm-up: the lecturer's). An action lasts from its
BackMsg to the script_finished that ends it (a run stopped early for a rerun does not). Every run is checked:
no exception, no st.error, no page_not_found, the page asked for ran; a tweaked widget is drawn again, not
replaced by the server. A widget or value that is not on the page stops the run. Exit status 2 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import io
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
RUN_ENDS = {0, 1, 3}  # script_finished: full run done, compile error, fragment run done (2: stopped for a rerun)
COMPILE_ERROR, ALERT_ERROR, NUMBER_INT = 1, 1, 0  # ScriptFinishedStatus, Alert.Format.ERROR, NumberInput.INT
STEPPER = "cnnlab_stepper"
OPEN = "open"  # from the start of the wave (connect included) to the page's first script_finished
DEFAULTS = {  # scenario -> (page, widget, values, seconds between one student's actions)
    "open": ("convolution", None, None, 1.0),
    "tweak": ("convolution", "conv.stride", "1,2", 1.0),
    "step": ("convolution", None, None, 1.0),
    "upload": ("instance-segmentation", "inst.image", None, 3.0),
    "train": ("training", "train.go", None, 1.0),
}
MAIN_ACTION = {"open": OPEN, "tweak": "tweak", "step": OPEN, "upload": "upload -> result", "train": "train -> result"}


class ScenarioError(Exception):
    """The scenario cannot do what it was asked (a widget not on the page, a value it does not take): stop."""


@dataclass
class Config:
    scenario: str
    students: int
    duration: float
    url: str | None = None
    port: int | None = None
    page: str | None = None
    widget: str | None = None  # tweak: the widget's key; upload: the image picker's key
    values: list[str] = field(default_factory=list)
    upload: str | None = None
    every: float | None = None
    timeout: float = 60.0
    replica_ports: list[int] = field(default_factory=list)  # through a proxy: the replicas whose CPU is sampled
    service: str | None = None  # an inference service whose batches are counted (cnnlab.serve)
    photo: bytes = b""  # upload: the picture every upload marks (run() fills it in)

    def __post_init__(self) -> None:
        page, widget, values, every = DEFAULTS[self.scenario]
        self.page = (self.page or page).strip("/")
        if not self.widget:  # the default widget takes its default values; another widget needs its own
            self.widget, self.values = widget, values.split(",") if values else []
        self.every = every if self.every is None else self.every
        if self.scenario == "tweak" and not self.values:
            raise ScenarioError(f"tweak of {self.widget!r} needs --values")


@dataclass
class Widget:
    """A widget as the last run drew it; `shown` is what the browser would show."""

    id: str
    kind: str
    fragment_id: str
    options: list[str] = field(default_factory=list)
    data_type: int = 0
    form_id: str = ""
    bounds: tuple[float | None, float | None] = (None, None)  # a number's min and max: the browser keeps to them
    shown: list = field(default_factory=list)
    set_by_server: bool = False


@dataclass
class Run:
    """What the server sent for one script run, from new_session to script_finished."""

    errors: list[str] = field(default_factory=list)
    drawn: set[str] = field(default_factory=set)  # widget keys
    elements: set[str] = field(default_factory=set)  # element types
    components: list[tuple[str, dict, int]] = field(default_factory=list)  # (name, data, bytes of its message)
    texts: list[str] = field(default_factory=list)  # markdown and captions, as sent


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    bytes: dict[str, list[int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: dict[str, int | str] = field(default_factory=dict)  # counts, and the service's batching
    steppers: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # key -> (steps, element, trace bytes)
    stopped: str = ""  # why the run stopped early (a ScenarioError)

    def action(self, kind: str, seconds: float, received: int) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.bytes.setdefault(kind, []).append(received)

    def count(self, note: str, n: int = 1) -> None:
        self.notes[note] = self.notes.get(note, 0) + n

    def error(self, student: int, message: str) -> None:
        self.errors.append(f"student {student}: {message}"[:400])


@dataclass
class Hall:
    """What the students share: the settings, the server's port, the results and the opening wave."""

    cfg: Config
    port: int
    stats: Stats
    wave: float = field(default_factory=time.monotonic)
    opened: int = 0  # students who opened the page or failed to
    all_open: asyncio.Event = field(default_factory=asyncio.Event)
    ends: list[float] = field(default_factory=list)
    runs_seen: set[str] = field(default_factory=set)  # train: the shared runs the students watched


# ---------------------------------------------------------------- HTTP and the websocket session


async def http(port: int, method: str, path: str, headers: dict[str, str], body: bytes, timeout: float):
    """One HTTP/1.1 request on its own connection to 127.0.0.1: (status, lower-cased headers, body)."""

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
            head += [f"{k}: {v}" for k, v in headers.items()] + [f"Content-Length: {len(body)}"]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    raw = await asyncio.wait_for(exchange(), timeout)
    head, _, payload = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = (part.strip() for part in line.split(":", 1))
            name = name.lower()  # several Set-Cookie lines (Streamlit's and a proxy's) are kept, one per line
            fields[name] = f"{fields[name]}\n{value}" if name in fields else value
    return int(lines[0].split()[1]), fields, payload


class Student:
    """One browser tab: a websocket session that runs one action at a time and checks every run."""

    def __init__(self, number: int, hall: Hall):
        self.number, self.cfg, self.port, self.stats = number, hall.cfg, hall.port, hall.stats
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task | None = None
        self.xsrf = self.session_id = self.page_hash = ""
        self.cookies: dict[str, str] = {}  # Streamlit's _streamlit_xsrf, and a sticky proxy's replica cookie
        self.widgets: dict[str, Widget] = {}
        self.run = Run()
        self.waiter: asyncio.Future | None = None
        self.file_urls: dict[str, asyncio.Future] = {}
        self.bytes_in = self.sent = 0

    async def connect(self) -> None:
        status, headers, _ = await http(self.port, "GET", "/_stcore/health", {}, b"", self.cfg.timeout)
        if status != 200:
            raise ConnectionError(f"/_stcore/health answered {status}")
        for cookie in headers.get("set-cookie", "").splitlines():
            name, _, value = cookie.split(";")[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        self.xsrf = self.cookies.get("_streamlit_xsrf", "")
        self.ws = await connect(
            f"ws://127.0.0.1:{self.port}/_stcore/stream",
            subprotocols=["streamlit", self.xsrf] if self.xsrf else ["streamlit"],
            origin=f"http://127.0.0.1:{self.port}",
            additional_headers=self.cookie_header(),
            max_size=None,
            compression=None,  # payload bytes are then the bytes on the wire
            open_timeout=self.cfg.timeout,
        )
        self.reader = asyncio.create_task(self.read())

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)

    async def send(self, msg: BackMsg) -> None:
        self.sent += 1
        await self.ws.send(msg.SerializeToString())

    async def rerun(self, states: list[WidgetState] = (), fragment_id: str = "", page_name: str | None = None) -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.widget_states.SetInParent()
        rerun.widget_states.widgets.extend(states)
        if page_name is not None:
            rerun.page_name = page_name
        else:
            rerun.page_script_hash = self.page_hash
        rerun.fragment_id = fragment_id
        info = rerun.context_info
        info.timezone, info.locale, info.url = "UTC", "en-US", f"http://127.0.0.1:{self.port}/{self.cfg.page}"
        await self.send(msg)

    async def read(self) -> None:
        try:
            async for raw in self.ws:
                self.bytes_in += len(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self.receive(msg, len(raw))
        except ConnectionClosed as err:
            self.stats.error(self.number, f"the websocket broke: {err}")
        else:
            self.stats.error(self.number, f"the server closed the websocket (code {self.ws.close_code})")
        for fut in [self.waiter, *self.file_urls.values()]:
            if fut is not None and not fut.done():
                fut.set_exception(ConnectionError("websocket closed"))

    def receive(self, msg: ForwardMsg, size: int) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self.run = Run()
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self.element(msg.delta.new_element, msg.delta.fragment_id, size)
        elif kind == "navigation":
            self.navigation(msg.navigation)
        elif kind == "page_not_found":
            self.run.errors.append(f"page not found: {msg.page_not_found.page_name!r}")
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            self.run.errors.append(f"compile error: {msg.session_event.script_compilation_exception.message}")
        elif kind == "file_urls_response":
            fut = self.file_urls.pop(msg.file_urls_response.response_id, None)
            if fut is not None and not fut.done():
                fut.set_result(msg.file_urls_response)
        elif kind == "script_finished":
            if msg.script_finished == COMPILE_ERROR:
                self.run.errors.append("the script finished with a compile error")
            if msg.script_finished in RUN_ENDS and self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(self.run)

    def navigation(self, nav) -> None:
        """Keep the hash of the page that ran (reruns send it back); it must be the page asked for."""
        wanted = [p for p in nav.app_pages if p.url_pathname == self.cfg.page]
        if not wanted:
            self.run.errors.append(f"the app has no page /{self.cfg.page}")
        elif nav.page_script_hash != wanted[0].page_script_hash:
            ran = [p.url_pathname for p in nav.app_pages if p.page_script_hash == nav.page_script_hash]
            self.run.errors.append(f"the server ran page /{ran[0] if ran else '?'} instead of /{self.cfg.page}")
        self.page_hash = nav.page_script_hash

    def element(self, el, fragment_id: str, size: int) -> None:
        kind = el.WhichOneof("type")
        if kind is None:
            return
        e = getattr(el, kind)
        self.run.elements.add(kind)
        if kind == "exception" and not e.is_warning:
            self.run.errors.append(f"exception {e.type}: {e.message}")
        elif kind == "alert" and e.format == ALERT_ERROR:
            self.run.errors.append(f"st.error: {e.body}")
        elif kind == "markdown":
            self.run.texts.append(e.body)
        elif kind == "bidi_component":
            data = e.json or (e.mixed.json if e.HasField("mixed") else "")
            self.run.components.append((e.component_name, json.loads(data or "{}"), size))
        wid = getattr(e, "id", "") if "id" in e.DESCRIPTOR.fields_by_name else ""
        if wid.startswith("$$ID-"):
            key = wid.split("-", 2)[2]
            self.run.drawn.add(key)
            self.widgets[key] = widget_from(wid, kind, fragment_id, e, self.widgets.get(key))

    async def act(self, kind: str, send) -> Run | None:
        """Send one action and wait for the run that ends it; record its latency and bytes, or an error."""
        self.waiter = asyncio.get_running_loop().create_future()
        start, before = time.monotonic(), self.bytes_in
        try:
            await send()
            run = await asyncio.wait_for(self.waiter, self.cfg.timeout)
        except TimeoutError:
            self.stats.error(self.number, f"{kind}: no script_finished within {self.cfg.timeout:.0f} s")
            return None
        except (ConnectionError, ConnectionClosed):
            return None  # read() has said why
        finally:
            self.waiter = None
        self.stats.action(kind, time.monotonic() - start, self.bytes_in - before)
        for message in run.errors:
            self.stats.error(self.number, f"{kind}: {message}")
        return run

    def widget(self, key: str) -> Widget:
        """The widget `key` of the page, or a ScenarioError naming it and the keys that are there."""
        if key not in self.widgets:
            there = ", ".join(sorted(self.widgets)) or "none"
            raise ScenarioError(f"widget {key!r} is not on page /{self.cfg.page} (widget keys there: {there})")
        return self.widgets[key]


# ---------------------------------------------------------------- widgets: what they show, what a change sends


def widget_from(wid: str, kind: str, fragment_id: str, e, previous: Widget | None) -> Widget:
    """A Widget from its delta; it shows the server's value if the server set one, else what the browser kept."""
    w = Widget(wid, kind, fragment_id, form_id=getattr(e, "form_id", ""), data_type=getattr(e, "data_type", 0))

    def has(name: str) -> bool:
        f = e.DESCRIPTOR.fields_by_name.get(name)
        return f is not None and (not f.has_presence or e.HasField(name))

    value: list = []
    default: list = []
    if kind in ("selectbox", "radio"):
        w.options = list(e.options)
        value = [e.raw_value] if has("raw_value") else []
        default = [w.options[e.default]] if has("default") and e.default < len(w.options) else []
    elif kind == "button_group":
        w.options = [o.content for o in e.options]
        value, default = list(e.raw_values), [w.options[i] for i in e.default if i < len(w.options)]
    elif kind == "slider":
        w.options, w.bounds = list(e.options), (e.min, e.max)
        shown = (lambda xs: [w.options[int(x)] for x in xs]) if w.options else list  # select_slider: indices
        value, default = shown(e.value), shown(e.default)
    elif kind in ("number_input", "checkbox"):
        value, default = [e.value] if has("value") else [], [e.default] if has("default") else []
        if kind == "number_input":
            w.bounds = (e.min if e.has_min else None, e.max if e.has_max else None)
    w.set_by_server = bool(getattr(e, "set_value", False))
    if w.set_by_server:
        w.shown = value
    elif previous is not None and previous.kind == kind and previous.shown:
        w.shown = previous.shown
    else:
        w.shown = default
    return w


def pick_label(options: list[str], value: str) -> str:
    """The option a value names: the label itself, else the first label that starts with it as a whole word."""
    if value in options:
        return value
    for o in options:
        if o.startswith(value) and (len(o) == len(value) or not o[len(value)].isalnum()):
            return o
    raise ScenarioError(f"{value!r} names none of the options {options!r}")


def within(key: str, w: Widget, numbers: list[float]) -> list[float]:
    """The numbers, if the widget's min and max allow them: the server drops a value out of range silently."""
    lo, hi = w.bounds
    if any((lo is not None and x < lo) or (hi is not None and x > hi) for x in numbers):
        raise ScenarioError(f"widget {key!r} takes values from {lo} to {hi}, not {numbers!r}")
    return numbers


def widget_state(key: str, w: Widget, value: str) -> tuple[WidgetState, list]:
    """The WidgetState a browser sends when the user sets w to `value`, and what w then shows."""
    if w.form_id:
        raise ScenarioError(f"widget {key!r} is in a form: changing it does not rerun the page")
    s = WidgetState(id=w.id)
    try:
        if w.kind in ("selectbox", "radio"):
            s.string_value = pick_label(w.options, value)
            return s, [s.string_value]
        if w.kind == "button_group" or (w.kind == "slider" and w.options):
            s.string_array_value.data.append(pick_label(w.options, value))
            return s, list(s.string_array_value.data)
        if w.kind == "number_input" and w.data_type == NUMBER_INT:
            s.int_value = int(value)
            return s, within(key, w, [s.int_value])
        if w.kind == "number_input":
            s.double_value = float(value)
            return s, within(key, w, [s.double_value])
        if w.kind == "slider":
            s.double_array_value.data.extend(float(v) for v in value.split(":"))
            return s, within(key, w, list(s.double_array_value.data))
    except ValueError as err:
        raise ScenarioError(f"widget {key!r} ({w.kind}) does not take {value!r}: {err}") from None
    if w.kind == "checkbox":
        s.bool_value = value.lower() in ("true", "1", "on")
        return s, [s.bool_value]
    raise ScenarioError(f"widget {key!r} is a {w.kind}; tweak sets number inputs, choices, sliders and checkboxes")


# ---------------------------------------------------------------- scenarios


async def paced(cfg: Config, deadline: float):
    """Yield once per action, every cfg.every seconds (±25 %), one action at a time, until the deadline."""
    await asyncio.sleep(random.uniform(0, cfg.every))  # the students do not act in lock step
    while time.monotonic() < deadline:
        start = time.monotonic()
        yield
        await asyncio.sleep(max(0.0, start + cfg.every * random.uniform(0.75, 1.25) - time.monotonic()))


async def hold(s: Student, hall: Hall) -> None:
    """open: keep the page open until every student has opened it, as a lecture hall would."""
    await hall.all_open.wait()


async def tweak(s: Student, hall: Hall) -> None:
    """Set one widget to cfg.values in turn, each time to a value other than the one it shows."""
    key, values = s.cfg.widget, s.cfg.values
    for value in values:  # every value fits the widget, or the run stops now
        widget_state(key, s.widget(key), value)
    k = random.randrange(len(values))
    async for _ in paced(s.cfg, time.monotonic() + s.cfg.duration):
        w = s.widget(key)
        state, shows = widget_state(key, w, values[k % len(values)])
        if len(values) > 1 and shows == w.shown:
            k += 1
            state, shows = widget_state(key, w, values[k % len(values)])
        k += 1
        w.shown = shows  # what the browser shows from now on, until the server sets another value
        run = await s.act("tweak", lambda w=w, state=state: s.rerun([state], w.fragment_id))
        if run is None:
            continue
        if key not in run.drawn:
            raise ScenarioError(f"the run after setting {key} to {shows!r} did not draw {key} again")
        if s.widgets[key].set_by_server and s.widgets[key].shown != shows:
            s.stats.error(s.number, f"{key} set to {shows!r}: the server replaced it with {s.widgets[key].shown!r}")


async def step(s: Student, hall: Hall) -> None:
    """Check that every stepper's trace arrived with the page, then step in the "browser": send nothing."""
    found = [(data, size) for name, data, size in s.run.components if STEPPER in name]
    if not found:
        raise ScenarioError(f"no {STEPPER} component arrived with page /{s.cfg.page}")
    for data, size in found:
        steps = (data.get("trace") or {}).get("steps")
        if not steps:
            s.stats.error(s.number, f"stepper {data.get('name')!r} arrived without a trace with steps")
        trace = len(json.dumps(data.get("trace"), separators=(",", ":")).encode())
        s.stats.steppers[data.get("name", "?")] = (len(steps or []), size, trace)
    sent, received = s.sent, s.bytes_in
    await asyncio.sleep(s.cfg.duration)
    s.stats.count("BackMsgs sent while stepping", s.sent - sent)
    s.stats.count("bytes received while stepping", s.bytes_in - received)
    if s.sent != sent:
        s.stats.error(s.number, f"{s.sent - sent} BackMsgs were sent while stepping (expected 0)")


def scene(width: int = 1600) -> bytes:
    """A photo-like JPEG, `width` × 3/4 width: sky, sun, hills and houses under a little noise."""
    from PIL import Image, ImageDraw, ImageFilter

    w, h, rnd = width, width * 3 // 4, random.Random(7)
    img = Image.new("RGB", (w, h), (110, 160, 215))
    draw = ImageDraw.Draw(img)
    draw.ellipse([w * 0.75, h * 0.08, w * 0.88, h * 0.25], fill=(250, 220, 90))
    draw.polygon([(0, h * 0.6), (w * 0.3, h * 0.42), (w * 0.6, h * 0.58), (w, h * 0.45), (w, h), (0, h)], (60, 140, 60))
    for x, y in [(rnd.uniform(0.05, 0.85) * w, rnd.uniform(0.62, 0.8) * h) for _ in range(5)]:
        draw.rectangle([x, y, x + w * 0.1, y + h * 0.12], fill=tuple(rnd.randrange(90, 230) for _ in range(3)))
        draw.polygon([(x - 10, y), (x + w * 0.05, y - h * 0.07), (x + w * 0.1 + 10, y)], fill=(150, 50, 40))
    img = Image.blend(img, Image.effect_noise((w, h), 24).convert("RGB"), 0.12).filter(ImageFilter.GaussianBlur(1))
    return jpeg(img)


def picture(base: bytes, student: int, k: int) -> bytes:
    """The base photo with a mark of its own, so that no cache on the server can answer two uploads."""
    from PIL import Image, ImageDraw

    img = Image.open(io.BytesIO(base)).convert("RGB")
    rnd = random.Random(student * 100_003 + k)
    x, y, r = rnd.randrange(img.width), rnd.randrange(img.height), img.width // 20
    ImageDraw.Draw(img).ellipse([x - r, y - r, x + r, y + r], fill=tuple(rnd.randrange(256) for _ in range(3)))
    return jpeg(img)


def jpeg(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()


async def upload(s: Student, hall: Hall) -> None:
    """Switch the image picker to "Upload", then upload a photo every cfg.every seconds."""
    picker = s.cfg.widget
    source = s.widget(f"{picker}.source")
    state, _ = widget_state(f"{picker}.source", source, "Upload")
    if await s.act("choose upload", lambda: s.rerun([state], source.fragment_id)) is None:
        return
    k = 0
    async for _ in paced(s.cfg, time.monotonic() + s.cfg.duration):
        uploader, k = s.widget(f"{picker}.upload"), k + 1
        name, data = f"student{s.number}_{k}.jpg", await asyncio.to_thread(picture, s.cfg.photo, s.number, k)
        start, before = time.monotonic(), s.bytes_in
        try:
            urls = await put_file(s, name, data)
        except (TimeoutError, ConnectionError, ConnectionClosed, OSError) as err:
            s.stats.error(s.number, f"upload of {name}: {type(err).__name__}: {err}")
            continue
        state = WidgetState(id=uploader.id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        run = await s.act("upload: page run", lambda u=uploader, st=state: s.rerun([st], u.fragment_id))
        if run is None:
            continue
        s.stats.action("upload -> result", time.monotonic() - start, s.bytes_in - before)
        if not run.elements & {"plotly_chart", "imgs"} and not run.errors:
            s.stats.error(s.number, f"the run after uploading {name} drew no picture")


async def put_file(s: Student, name: str, data: bytes):
    """Ask the server where a file goes (BackMsg.file_urls_request) and PUT it there; its FileURLs."""
    msg, request_id = BackMsg(), str(uuid.uuid4())
    msg.file_urls_request.request_id, msg.file_urls_request.session_id = request_id, s.session_id
    msg.file_urls_request.file_names.append(name)
    s.file_urls[request_id] = asyncio.get_running_loop().create_future()
    await s.send(msg)
    answer = await asyncio.wait_for(s.file_urls[request_id], s.cfg.timeout)
    if answer.error_msg or not answer.file_urls:
        raise ConnectionError(f"file_urls_response: {answer.error_msg or 'no URLs'}")
    urls, boundary = answer.file_urls[0], "----lecturehall" + uuid.uuid4().hex
    part = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
    body = (part + "Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": s.xsrf}
    headers |= s.cookie_header()
    status, _, text = await http(s.port, "PUT", urls.upload_url, headers, body, s.cfg.timeout)
    if status not in (200, 204):
        raise ConnectionError(f"PUT {urls.upload_url} answered {status}: {text[:100]!r}")
    return urls


SHARED_RUN = re.compile(r"\(id (?P<run>\w+)\); trainings this server has started: (?P<trainings>\d+)")


async def train(s: Student, hall: Hall) -> None:
    """Press Train once, within cfg.every seconds of the others, and wait until the run has trained and is drawn.

    Every student should watch the same shared run: the report counts the runs seen and the trainings the
    server says it started (1 when the hall trained once).
    """
    button = s.widget(s.cfg.widget)
    if button.kind != "button":
        raise ScenarioError(f"widget {s.cfg.widget!r} is a {button.kind}, not a button")
    await asyncio.sleep(random.uniform(0, s.cfg.every))
    state = WidgetState(id=button.id, trigger_value=True)
    run = await s.act("train -> result", lambda: s.rerun([state], button.fragment_id))
    if run is None:
        return
    if not any(STEPPER in name and data.get("name") == "train.filters" for name, data, _ in run.components):
        s.stats.error(s.number, "the run after pressing Train drew no filters step-through (it did not finish)")
    found = [m for text in run.texts for m in SHARED_RUN.finditer(text)]
    if not found:
        s.stats.error(s.number, "the finished run does not say which shared run it was")
        return
    hall.runs_seen.add(found[-1]["run"])
    s.stats.notes["shared runs watched"] = len(hall.runs_seen)
    started = max(int(found[-1]["trainings"]), int(s.stats.notes.get("trainings the server started", 0)))
    s.stats.notes["trainings the server started"] = started


SCENARIOS = {"open": hold, "tweak": tweak, "step": step, "upload": upload, "train": train}


async def student(number: int, hall: Hall) -> None:
    """One student: connect, open the page, then play the scenario; a ScenarioError goes up and stops all."""
    cfg, s = hall.cfg, Student(number, hall)
    try:
        try:
            await s.connect()
            run = await s.act("open: page run", lambda: s.rerun(page_name=cfg.page))
        finally:
            hall.opened += 1  # opened or failed: `open` waits for no one who will never come
            if hall.opened == cfg.students:
                hall.all_open.set()
        if run is not None:
            hall.stats.action(OPEN, time.monotonic() - hall.wave, s.bytes_in)
            await SCENARIOS[cfg.scenario](s, hall)
    except ScenarioError:
        raise
    except Exception as err:  # noqa: BLE001 - a student who cannot go on is an error, not the end of the run
        hall.stats.error(number, f"{type(err).__name__}: {err}")
    finally:
        hall.ends.append(time.monotonic())
        await s.close()


async def warm_up(cfg: Config, port: int, stats: Stats) -> None:
    """One session opens the page before the wave, as the lecturer would: imports and caches are then warm."""
    s = Student(-1, Hall(cfg, port, stats))
    try:
        await s.connect()
        await s.act("warm-up open", lambda: s.rerun(page_name=cfg.page))
    finally:
        await s.close()


async def lecture(cfg: Config, port: int, stats: Stats) -> float:
    """All students at once; a ScenarioError in any of them stops the others. Returns the seconds it took."""
    hall = Hall(cfg, port, stats)
    try:
        async with asyncio.TaskGroup() as group:
            for n in range(cfg.students):
                group.create_task(student(n, hall))
    except* ScenarioError as errors:
        stats.stopped = str(errors.exceptions[0])
        stats.errors.insert(0, f"stopped: {stats.stopped}")
    return max(hall.ends, default=time.monotonic()) - hall.wave


# ---------------------------------------------------------------- the server and its CPU and memory


def healthy(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def server(cfg: Config):
    """(port, pid) of the app: the one at cfg.url, or `streamlit run app.py` started here and stopped after."""
    if cfg.url:
        parts = urlsplit(cfg.url)
        if parts.hostname not in ("127.0.0.1", "localhost") or not parts.port:
            raise SystemExit(f"--url must be http://127.0.0.1:PORT, not {cfg.url}")
        yield parts.port, listening_pid(parts.port)
        return
    port = cfg.port
    if not port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    log = Path(f"/tmp/lecture_hall-{port}.log")
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false", "--server.port", str(port), "--server.address", "127.0.0.1"]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=os.environ | {"PYTHONUNBUFFERED": "1"}
        )
    try:
        deadline = time.monotonic() + 90
        while not healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start on port {port}: see {log}")
            time.sleep(0.3)
        print(f"server pid {proc.pid} on 127.0.0.1:{port} (log {log})")
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def listening_pid(port: int) -> int | None:
    """The PID that listens on the port, when this user may see it."""
    with contextlib.suppress(psutil.Error):
        for c in psutil.net_connections("tcp"):
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid:
                return c.pid
    return None


class Sampler(threading.Thread):
    """The server's CPU % (of one core) and RSS every 0.5 s, summed over its processes (the replicas
    behind a proxy), and the whole machine's CPU % (of all cores: a service's work shows there)."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.procs = [psutil.Process(pid) for pid in pids]
        for proc in self.procs:
            proc.cpu_percent(None)
        psutil.cpu_percent(None)
        self.start_rss = sum(proc.memory_info().rss for proc in self.procs)
        self.samples: list[tuple[float, int, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            with contextlib.suppress(psutil.Error):
                cpu = sum(proc.cpu_percent(None) for proc in self.procs)
                rss = sum(proc.memory_info().rss for proc in self.procs)
                self.samples.append((cpu, rss, psutil.cpu_percent(None)))

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.join()
        cpu = [c for c, _, _ in self.samples] or [0.0]
        machine = [m for _, _, m in self.samples] or [0.0]
        mb = [r / 2**20 for _, r, _ in self.samples] or [self.start_rss / 2**20]
        rss = {"rss_start_mb": self.start_rss / 2**20, "rss_peak_mb": max(mb), "rss_end_mb": mb[-1]}
        return {
            "cpu_avg": statistics.fmean(cpu),
            "cpu_peak": max(cpu),
            "machine_cpu_avg": statistics.fmean(machine),
        } | rss


def service_stats(url: str) -> dict[str, dict]:
    """route -> the batches an inference service's replica has run (cnnlab.serve's GET /<route>/stats)."""
    answers = {}
    for route in ("detect", "segment", "features", "classify"):
        with contextlib.suppress(OSError, ValueError):
            answers[route] = json.loads(urllib.request.urlopen(f"{url}/{route}/stats", timeout=5).read())
    return answers


def batching_notes(before: dict[str, dict], after: dict[str, dict], seconds: float) -> dict[str, str]:
    """The service's work during the run: requests, batches, mean batch size, requests per second."""
    notes = {}
    for route, end in after.items():
        start = before.get(route, {"requests": 0, "batches": 0})
        requests, batches = end["requests"] - start["requests"], end["batches"] - start["batches"]
        if batches:
            notes[f"service /{route}"] = (
                f"{requests} requests in {batches} batches (mean {requests / batches:.2f}, "
                f"max {end['max_batch_size']}), {requests / seconds:.2f} requests/s over the run"
            )
    return notes


# ---------------------------------------------------------------- the report


@dataclass
class Report:
    cfg: Config
    seconds: float
    stats: Stats
    server: dict[str, float] | None  # None: the server's PID was not visible

    def exit_status(self) -> int:
        return 2 if self.stats.errors else 0


def pct(values: list[float], q: float) -> float:
    """The q-quantile, interpolated between the sorted values."""
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    return s[lo] + (s[min(lo + 1, len(s) - 1)] - s[lo]) * (pos - lo)


def summary(r: Report) -> str:
    """The lines printed at the end of a run, the Markdown row for BENCHMARKS.md last."""
    c, st, sv = r.cfg, r.stats, r.server
    what = f" /{c.page}" + (f" {c.widget} = {','.join(c.values)}" if c.scenario == "tweak" else "")
    asked = "" if c.scenario in ("open", "train") else f", {c.duration:g} s each"
    lines = [f"scenario {c.scenario}{what}: {c.students} student(s){asked}, {r.seconds:.1f} s in all"]
    lines.append(f"  {'latency (s)':20s} {'n':>5s} {'p50':>7s} {'p95':>7s} {'max':>7s} {'KB received/action':>19s}")
    for kind, v in st.latencies.items():
        kb = statistics.fmean(st.bytes[kind]) / 1024
        lines.append(f"  {kind:20s} {len(v):5d} {pct(v, 0.5):7.3f} {pct(v, 0.95):7.3f} {max(v):7.3f} {kb:19.1f}")
    for key, (steps, size, trace) in st.steppers.items():
        lines.append(f"  stepper {key}: {steps} steps; sent once with the page: {size:,} bytes (trace {trace:,})")
    lines += [f"  {k}: {v}" for k, v in st.notes.items()]
    if sv:
        lines.append(
            f"  server cpu avg {sv['cpu_avg']:.0f} % peak {sv['cpu_peak']:.0f} % (100 % = one core); rss start "
            f"{sv['rss_start_mb']:.0f} MB, peak {sv['rss_peak_mb']:.0f} MB, end {sv['rss_end_mb']:.0f} MB; "
            f"machine cpu avg {sv['machine_cpu_avg']:.0f} % of all cores"
        )
    else:
        lines.append("  server cpu / rss: not sampled (its PID is not visible to this user)")
    lines.append(f"  errors: {len(r.stats.errors)}")
    lines += [f"    {e}" for e in r.stats.errors[:5]]
    return "\n".join([*lines, "BENCHMARKS.md row:", markdown_row(r)])


def markdown_row(r: Report) -> str:
    """| date | scenario | students | s | p50 | p95 | max | actions | KB/action | cpu avg / peak | rss | errors |"""
    kind, sv = MAIN_ACTION[r.cfg.scenario], r.server
    v, b = r.stats.latencies.get(kind, []), r.stats.bytes.get(kind, [])
    what = f"{r.cfg.scenario} /{r.cfg.page}" + (f" `{r.cfg.widget}`" if r.cfg.scenario == "tweak" else "")
    cells = [datetime.date.today().isoformat(), what, str(r.cfg.students), f"{r.seconds:.0f} s"]
    cells += [f"{pct(v, q):.2f} s" for q in (0.5, 0.95, 1.0)] if v else ["—"] * 3
    cells += [str(len(v)), f"{statistics.fmean(b) / 1024:.1f} KB" if b else "—"]
    if sv:
        rss = f"{sv['rss_start_mb']:.0f} → {sv['rss_peak_mb']:.0f} → {sv['rss_end_mb']:.0f} MB"
        cells += [f"{sv['cpu_avg']:.0f} % / {sv['cpu_peak']:.0f} %", rss]
    else:
        cells += ["—", "—"]
    return "| " + " | ".join([*cells, str(len(r.stats.errors))]) + " |"


# ---------------------------------------------------------------- entry points


def run(cfg: Config) -> Report:
    """Run one scenario against the app (started here, or at cfg.url); the Report, errors included."""
    if cfg.scenario == "upload":
        cfg.photo = Path(cfg.upload).read_bytes() if cfg.upload else scene()
    stats = Stats()
    with server(cfg) as (port, pid):
        in_own_loop(warm_up(cfg, port, stats))
        pids = [p for p in map(listening_pid, cfg.replica_ports) if p] if cfg.replica_ports else [pid] if pid else []
        sampler = Sampler(pids) if pids else None
        if sampler:
            sampler.start()
        before = service_stats(cfg.service) if cfg.service else {}
        seconds = in_own_loop(lecture(cfg, port, stats))
        if cfg.service:
            stats.notes |= batching_notes(before, service_stats(cfg.service), seconds)
        return Report(cfg, seconds, stats, sampler.stop() if sampler else None)


def in_own_loop(coroutine):
    """asyncio.run in a thread of its own: the caller's thread may already run a loop (Playwright's, in tests)."""
    result: list = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as err:  # re-raised in the caller's thread
            failure.append(err)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def parse(argv: list[str] | None) -> Config:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", choices=list(SCENARIOS), required=True)
    ap.add_argument("--students", type=int, default=10)
    ap.add_argument("--duration", type=float, default=20.0, help="seconds each student acts after opening")
    ap.add_argument("--url", help="attach to this running app (http://127.0.0.1:PORT) instead of starting one")
    ap.add_argument("--port", type=int, help="port for the app started here (default: a free one)")
    ap.add_argument("--page", help="url path of the page (default: convolution; upload: instance-segmentation)")
    ap.add_argument("--widget", help="tweak: the widget's key (conv.stride); upload: the image picker's (inst.image)")
    ap.add_argument("--values", help="tweak: the values to cycle through, e.g. 1,2 or W9,W10,W11")
    ap.add_argument("--upload", help="upload: the photo to upload (default: a 1600 px scene drawn with Pillow)")
    ap.add_argument("--every", type=float, help="seconds between one student's actions (tweak 1, upload 3)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds an action may take")
    ap.add_argument("--replica-ports", help="through a proxy (--url): the replicas' ports, e.g. 8502,8503")
    ap.add_argument("--service", help="an inference service (http://127.0.0.1:8000) whose batches are counted")
    a = ap.parse_args(argv)
    if a.students < 1 or a.duration < 0:
        ap.error("--students must be at least 1 and --duration not negative")
    values = [v for v in (a.values or "").split(",") if v]
    try:
        return Config(
            a.scenario,
            a.students,
            a.duration,
            a.url,
            a.port,
            a.page,
            a.widget,
            values,
            a.upload,
            a.every,
            a.timeout,
            [int(p) for p in (a.replica_ports or "").split(",") if p],
            a.service,
        )
    except ScenarioError as err:
        ap.error(str(err))


def main(argv: list[str] | None = None) -> int:
    report = run(parse(argv))
    print(summary(report), flush=True)
    if report.stats.stopped:
        print(f"error: the run stopped: {report.stats.stopped}", file=sys.stderr)
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
