"""Scale-out on one machine: K Streamlit replicas behind HAProxy (sticky sessions), optionally with the
Ray Serve inference service that all replicas share.

    scripts/serve --replicas 2 [--port 8501] [--host 0.0.0.0] [--service | --service-url URL]

Replica i listens on 127.0.0.1:(port + i); HAProxy listens on host:port and pins each browser to one
replica with a cookie (Streamlit keeps a session in one process: uploads and media go over plain HTTP
to it, and the websocket carries the session). All replicas share one cookie secret. Ctrl-C stops all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COOKIE = "CNNLAB_REPLICA"


def haproxy_config(host: str, port: int, replica_ports: list[int]) -> str:
    """HAProxy in HTTP mode: round robin for a new browser, then its cookie keeps it on its replica.

    WebSockets pass through HTTP mode (HAProxy sees the Upgrade and switches to a tunnel); a lecture's
    websocket stays open for an hour, hence the tunnel timeout.
    """
    servers = "\n".join(
        f"    server r{i} 127.0.0.1:{p} check cookie r{i}" for i, p in enumerate(replica_ports, start=1)
    )
    return f"""global
    maxconn 8000  # a websocket and a server connection per student; fits a 20000-descriptor limit

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 120s
    timeout tunnel 2h
    timeout http-request 30s

frontend hall
    bind {host}:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    cookie {COOKIE} insert indirect nocache httponly
    option httpchk GET /_stcore/health
{servers}
"""


def healthy(url: str, path: str = "/_stcore/health") -> bool:
    try:
        with urllib.request.urlopen(url + path, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_for(url: str, path: str, process: subprocess.Popen, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not healthy(url, path):
        if process.poll() is not None or time.monotonic() > deadline:
            state = "stopped" if process.poll() is not None else f"did not answer in {seconds:.0f} s"
            raise SystemExit(f"{url} {state}: see {log}")
        time.sleep(0.3)


class Hall(contextlib.ExitStack):
    """The processes of a scale-out: the service (optional), K replicas, the proxy; stopped on exit."""

    def __init__(
        self,
        replicas: int,
        port: int,
        host: str = "127.0.0.1",
        service_url: str | None = None,
        start_service: bool = False,
        service_port: int | None = None,
        logs: Path | None = None,
    ) -> None:
        super().__init__()
        self.replicas, self.port, self.host = replicas, port, host
        self.replica_ports = [port + i for i in range(1, replicas + 1)]
        self.service_url, self.start_service = service_url, start_service
        self.service_port = service_port or port + 100
        self.logs = logs or Path(tempfile.mkdtemp(prefix="cnnlab-hall-"))
        self.processes: list[subprocess.Popen] = []

    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> tuple[subprocess.Popen, Path]:
        log = self.logs / f"{name}.log"
        out = open(log, "w")  # noqa: SIM115 - closed with the stack
        self.callback(out.close)
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.processes.append(process)
        self.callback(_stop, process)
        return process, log

    def start(self) -> Hall:
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        if self.start_service:
            self.service_url = f"http://127.0.0.1:{self.service_port}"
            service, log = self._spawn(
                "service", [sys.executable, "-m", "cnnlab.serve", "--port", str(self.service_port)], env
            )
            wait_for(self.service_url, "/-/healthz", service, 180, log)
            wait_for(self.service_url, "/detect/stats", service, 180, log)
        if self.service_url:
            env["CNNLAB_INFERENCE_URL"] = self.service_url
        cookie_secret = secrets.token_hex(16)  # one for all: any replica accepts the others' cookies
        started = []
        for i, port in enumerate(self.replica_ports, start=1):
            cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
            cmd += ["--browser.gatherUsageStats", "false", "--server.address", "127.0.0.1", "--server.port", str(port)]
            replica_env = env | {"STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret}
            started.append((port, *self._spawn(f"replica{i}", cmd, replica_env)))
        for port, process, log in started:
            wait_for(f"http://127.0.0.1:{port}", "/_stcore/health", process, 120, log)
        config = self.logs / "haproxy.cfg"
        config.write_text(haproxy_config(self.host, self.port, self.replica_ports))
        proxy, log = self._spawn("haproxy", ["haproxy", "-db", "-f", str(config)])
        wait_for(self.url, "/_stcore/health", proxy, 30, log)
        return self

    @property
    def url(self) -> str:
        return f"http://{'127.0.0.1' if self.host in ('0.0.0.0', '') else self.host}:{self.port}"

    def __enter__(self) -> Hall:
        super().__enter__()
        try:
            return self.start()
        except BaseException:
            self.close()
            raise


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the hall the way Ctrl-C does: every process, then exit


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--port", type=int, default=8501, help="the proxy's port; replica i uses port + i")
    ap.add_argument("--host", default="0.0.0.0", help="the proxy's address (0.0.0.0: every network)")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--service", action="store_true", help="start the Ray Serve inference service here too")
    group.add_argument("--service-url", help="use an inference service that runs elsewhere")
    a = ap.parse_args(argv)
    if not 1 <= a.replicas <= 64:
        ap.error("--replicas must be between 1 and 64")
    with Hall(a.replicas, a.port, a.host, a.service_url, a.service) as hall:
        where = f"; inference service {hall.service_url}" if hall.service_url else "; models in each replica"
        print(f"CNN Lab on {hall.url}: {a.replicas} replica(s) on ports {hall.replica_ports}{where}", flush=True)
        print(f"logs in {hall.logs}; Ctrl-C stops everything", flush=True)
        signal.signal(signal.SIGTERM, _interrupt)
        with contextlib.suppress(KeyboardInterrupt):
            while all(p.poll() is None for p in hall.processes):
                time.sleep(1)
            for p in hall.processes:
                if p.poll() is not None:
                    print(f"a process stopped ({' '.join(map(str, p.args[:4]))}): see {hall.logs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
