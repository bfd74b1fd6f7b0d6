"""The local stack as a user starts it (`python -m publisher run`), on free ports, once per session."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publisher.local.emulator import free_port, local_aws_env

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    edge: str
    endpoint: str
    bucket: str
    table: str
    process: subprocess.Popen[str]
    log_path: Path

    def client(self, service: str) -> Any:
        import boto3

        env = local_aws_env(self.endpoint)
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.edge + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def get_json(self, path: str) -> Any:
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:200])
        return json.loads(body)

    def wait_for(self, predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> float:
        """Poll until predicate() is truthy; return the seconds it took."""
        started = time.monotonic()
        while True:
            try:
                if predicate():
                    return time.monotonic() - started
            except (OSError, ValueError, AssertionError):
                pass
            if time.monotonic() - started > timeout:
                raise AssertionError(f"condition not met within {timeout} s; stack log:\n{self.log_tail()}")
            time.sleep(interval)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_stack(tmp: Path, extra_args: list[str] | None = None) -> RunningStack:
    edge_port, emulator_port = free_port(), free_port()
    log_path = tmp / "stack.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "publisher", "run", "--edge-port", str(edge_port),
         "--emulator-port", str(emulator_port), "--state-dir", str(tmp / "state"), *(extra_args or [])],
        cwd=REPO, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT, text=True,
    )
    stack = RunningStack(f"http://127.0.0.1:{edge_port}", f"http://127.0.0.1:{emulator_port}",
                         "llm-catalogue-site-local", "llm_scores", process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local stack exited with {process.returncode}:\n{stack.log_tail()}")
        status, headers = 0, {}
        with contextlib.suppress(OSError):
            status, headers, _ = stack.get("/llms.json")
        # Before the first publish the edge fails over to the read API (source: dynamodb); the
        # stack is up when the published snapshot itself is served.
        if status == 200 and headers.get("X-Snapshot-Source") == "s3":
            return stack
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"local stack did not serve /llms.json within 60 s:\n{stack.log_tail()}")


def stop_stack(stack: RunningStack) -> None:
    stack.process.terminate()
    try:
        stack.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.wait()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield stack
    finally:
        stop_stack(stack)
