"""The lecture-hall load tester (benchmarks/lecture_hall.py) against a live app: it measures, and it fails loudly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.lecture_hall import Config, run
from tests.browser.conftest import ROOT, live_server


@pytest.fixture(scope="module")
def url():
    with live_server() as address:
        yield address


def test_tweak_times_every_change_of_the_stride(url):
    report = run(Config("tweak", students=2, duration=5, url=url))

    assert report.stats.errors == []
    assert report.exit_status() == 0
    latencies = report.stats.latencies["tweak"]
    assert len(latencies) >= 4  # 2 students, about one change a second each
    assert all(0 < t < 30 for t in latencies)
    assert len(report.stats.latencies["open"]) == 2
    assert min(report.stats.bytes["tweak"]) > 10_000  # the page came back with every change
    assert report.server is not None and report.server["rss_peak_mb"] > 0


def test_a_widget_that_is_not_on_the_page_stops_the_run(url):
    report = run(Config("tweak", students=2, duration=5, url=url, widget="conv.no_such_widget", values=["1", "2"]))

    assert "'conv.no_such_widget' is not on page /convolution" in report.stats.stopped
    assert "conv.stride" in report.stats.stopped  # it lists the keys that are there
    assert report.exit_status() == 2
    assert "tweak" not in report.stats.latencies
    assert report.seconds < 5  # stopped at once, not after the duration


def test_the_command_line_exits_non_zero_naming_the_key(url):
    argv = ["--scenario", "tweak", "--students", "1", "--duration", "3", "--url", url]
    argv += ["--widget", "conv.no_such_widget", "--values", "1,2"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.lecture_hall", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 2, done.stdout + done.stderr
    assert "error: the run stopped: widget 'conv.no_such_widget' is not on page /convolution" in done.stderr
    assert "errors: 1" in done.stdout


def test_a_value_the_widget_does_not_take_stops_the_run(url):
    report = run(Config("tweak", students=1, duration=3, url=url, widget="conv.stride", values=["99"]))

    assert "'conv.stride' takes values from 0.0 to 8.0, not [99]" in report.stats.stopped  # the server drops it
    assert report.exit_status() == 2


def test_stepping_sends_the_server_nothing(url):
    report = run(Config("step", students=2, duration=2, url=url))

    assert report.stats.errors == []
    assert report.exit_status() == 0
    steps, element_bytes, trace_bytes = report.stats.steppers["conv.steps"]
    assert steps > 1 and element_bytes > trace_bytes > 0
    assert report.stats.notes["BackMsgs sent while stepping"] == 0
    assert report.stats.notes["bytes received while stepping"] == 0


def test_a_page_without_a_stepper_fails_the_step_scenario(url):
    report = run(Config("step", students=1, duration=1, url=url, page="activations"))

    assert "no cnnlab_stepper component arrived with page /activations" in report.stats.stopped
    assert report.exit_status() == 2
