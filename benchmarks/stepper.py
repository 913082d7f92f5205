"""Benchmark: the client-side stepper in Chromium against a server round trip, in the same run.

    python -m benchmarks.stepper [--presses 200]

Starts the app on a free port (as the browser tests do) and drives Debian's Chromium:
- key press to frame: ArrowRight on the Convolution page's stepper, 10 presses a second, timed in
  the page from the keydown to the first task after the next paint (the stepper records it);
- baseline: a server round trip on the same page, changing the stride number input and waiting
  until the stepper shows the new trace, the way every click of the old controls went;
- WebSocket messages the browser sends while stepping and playing (counted by Playwright);
- bytes of each stepper trace sent to the browser, for every preset of every step-through.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cnnlab.i18n import translator
from cnnlab.presets import conv_presets, pooling_presets, transposed_presets
from cnnlab.steps import conv2d_steps, max_pool2d_steps, transposed_conv2d_steps, transposed_conv_as_conv
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, live_server
from ui.trace import payload_bytes
from ui.traces import conv_trace, pool_trace, scatter_trace


def trace_sizes() -> dict[str, int]:
    """Bytes of the trace JSON for every preset's step-through (what one student's browser receives once)."""
    t = translator("en")
    sizes = {}
    for p in conv_presets().values():
        steps = conv2d_steps(p.input, p.kernel, stride=p.stride, padding=p.padding)
        sizes[f"convolution {p.id}"] = payload_bytes(
            conv_trace(t, steps, np.pad(p.input, p.padding), "input", p.kernel, input_caption="x")
        )
    for p in pooling_presets().values():
        steps = max_pool2d_steps(p.input, p.kernel_size, stride=p.stride)
        sizes[f"pooling {p.id}"] = payload_bytes(pool_trace(t, steps, p.input, "input", "max"))
    for p in transposed_presets().values():
        steps = transposed_conv2d_steps(p.input, p.kernel, stride=p.stride, padding=p.padding)
        sizes[f"transposed {p.id} scatter"] = payload_bytes(scatter_trace(t, steps, p.input, p.kernel, p.padding))
        direct = transposed_conv_as_conv(p.input, p.kernel, stride=p.stride, padding=p.padding)
        steps = conv2d_steps(direct.padded, direct.flipped)
        sizes[f"transposed {p.id} direct"] = payload_bytes(
            conv_trace(t, steps, direct.padded, "input", direct.flipped, input_caption="x")
        )
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--round-trips", type=int, default=20)
    args = parser.parse_args()

    sizes = trace_sizes()
    largest = max(sizes, key=sizes.get)
    print(f"trace bytes: largest {sizes[largest]:,} ({largest}); median {statistics.median(sizes.values()):,.0f}")

    from playwright.sync_api import expect, sync_playwright

    with live_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        sent = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
        page.goto(f"{url}/convolution")
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("tab", name="Step by step").click()
        stepper = page.locator("[data-testid='stepper'][data-key='conv.steps']")
        stepper.click()
        page.wait_for_timeout(500)
        before = len(sent)
        page.evaluate("window.__cnnlabStepperTimings.length = 0")
        for i in range(args.presses):  # 10 presses a second: faster than any lecturer, slower than frames
            page.keyboard.press("ArrowRight" if i % 30 != 29 else "Home")
            page.wait_for_timeout(100)
        stepper.locator(".stp-speed-fast").click()
        stepper.locator(".stp-play").click()
        page.wait_for_timeout(3000)
        page.wait_for_timeout(300)
        timings = page.evaluate("window.__cnnlabStepperTimings")
        key_presses = timings[: args.presses]
        messages = len(sent) - before

        round_trips = []
        box = page.locator(".st-key-conv-stride input")
        for i in range(args.round_trips):
            stride = 2 - (i % 2)  # W1: 4 output cells at stride 2, 16 at stride 1
            box.fill(str(stride))
            start = time.perf_counter()
            box.press("Enter")
            expect(stepper).to_have_attribute("data-steps", "4" if stride == 2 else "16", timeout=30_000)
            round_trips.append((time.perf_counter() - start) * 1000)
        browser.close()

    p50 = statistics.median(key_presses)
    p95 = float(np.percentile(key_presses, 95))
    base = statistics.median(round_trips)
    print(f"key press to frame: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(key_presses)} presses")
    print(f"server round trip (change the stride): p50 {base:.0f} ms over {len(round_trips)}")
    print(f"ratio key press / round trip: {p50 / base:.3f}")
    print(f"WebSocket messages sent by the browser while stepping {args.presses} times and playing: {messages}")


if __name__ == "__main__":
    main()
