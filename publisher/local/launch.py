"""Start `python -m publisher run` as a child process on free ports and wait for its first publish."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from publisher.local.emulator import free_port, stop_process

REPO = Path(__file__).resolve().parents[2]


def http_get(url: str, headers: dict[str, str] | None = None,
             timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a GET; an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback URLs
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback URLs
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@dataclass
class LaunchedStack:
    edge: str
    endpoint: str
    process: subprocess.Popen[bytes] | None = None  # None: a stack someone else started
    log_path: Path | None = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:]) if self.log_path else "(no log)"
        except OSError:
            return "(no log)"

    def wait_published(self, timeout: float) -> None:
        """Until the edge serves the published snapshot: before the first publish `/llms.json` is
        answered by the read API's DynamoDB failover, so readiness is `X-Snapshot-Source: s3`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"local stack exited with {self.process.returncode}:\n{self.log_tail()}")
            status, headers = 0, {}
            with contextlib.suppress(OSError):
                status, headers, _ = http_get(self.edge + "/llms.json")
            if status == 200 and headers.get("X-Snapshot-Source") == "s3":
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"no published snapshot at {self.edge} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        stop_process(self.process, timeout=20)


def launch(state: Path, extra_args: list[str] | None = None, timeout: float = 60) -> LaunchedStack:
    """The stack as a user starts it, on free ports, logging to `state/stack.log`."""
    edge_port, emulator_port = free_port(), free_port()
    log_path = state / "stack.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "publisher", "run", "--edge-port", str(edge_port),
         "--emulator-port", str(emulator_port), "--state-dir", str(state / "state"), *(extra_args or [])],
        cwd=REPO, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    stack = LaunchedStack(f"http://127.0.0.1:{edge_port}", f"http://127.0.0.1:{emulator_port}", process, log_path)
    stack.wait_published(timeout)
    return stack
