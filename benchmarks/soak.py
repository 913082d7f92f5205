"""Soak test: a lecture's worth of mixed load on one server, and whether its memory stops growing.

    python -m benchmarks.soak [--minutes 30]

Starts the app once, then for each minute runs benchmarks.lecture_hall against it (--url) in
parallel: students opening a page (a different page each minute, all of them in turn), students
changing a setting every 2 s, students uploading a photo to Instance segmentation every 5 s.
The server's RSS is sampled every 5 s. Printed: per minute the peak RSS, actions and errors,
and at the end the growth from the end of the warm-up (minute 5) to the last minute.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time

import psutil

from benchmarks.lecture_hall import listening_pid
from tests.browser.conftest import live_server

PAGES = [
    "convolution",
    "edges",
    "activations",
    "pooling",
    "transposed-convolution",
    "feature-maps",
    "architectures",
    "segmentation",
    "instance-segmentation",
]
WARM_UP_MINUTES = 5


def minute_of_load(url: str, page: str) -> list[subprocess.Popen]:
    """The three kinds of load of one minute, started together."""
    tool = [sys.executable, "-m", "benchmarks.lecture_hall", "--url", url]
    runs = [
        ["--scenario", "open", "--students", "20", "--page", page],
        ["--scenario", "tweak", "--students", "10", "--duration", "50", "--every", "2"],
        ["--scenario", "upload", "--students", "5", "--duration", "50", "--every", "5"],
    ]
    return [subprocess.Popen(tool + r, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for r in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=30)
    args = parser.parse_args()
    with live_server() as url:
        server = psutil.Process(listening_pid(int(url.rsplit(":", 1)[1])))
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append((time.monotonic(), server.memory_info().rss / 2**20))
                done.wait(5)

        threading.Thread(target=sample, daemon=True).start()
        start = time.monotonic()
        print("minute  page                     peak RSS MB  runs with errors")
        peaks = []
        for minute in range(args.minutes):
            page = PAGES[minute % len(PAGES)]
            began = time.monotonic()
            runs = minute_of_load(url, page)
            failed = sum(run.wait() != 0 for run in runs)
            for run in runs:
                if run.returncode != 0:
                    print(run.stdout.read()[-600:])
            time.sleep(max(0.0, 60 - (time.monotonic() - began)))
            peak = max(rss for t, rss in samples if t >= began)
            peaks.append(peak)
            print(f"{minute + 1:>6}  {page:<24} {peak:>11.0f}  {failed}", flush=True)
        done.set()
    warm = min(WARM_UP_MINUTES, len(peaks))
    settled = peaks[warm - 1]
    print(f"RSS after warm-up (minute {warm}): {settled:.0f} MB; last minute: {peaks[-1]:.0f} MB;")
    print(f"growth {peaks[-1] - settled:+.0f} MB over {len(peaks) - warm} minutes; peak {max(peaks):.0f} MB;")
    print(f"{(time.monotonic() - start) / 60:.1f} minutes in all")


if __name__ == "__main__":
    main()
