"""`make run` says "up" only when it serves a published snapshot, and its console counts what the metrics count."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from publisher.local.emulator import free_port
from publisher.local.launch import stop_process
from publisher.local.metrics_tap import emf_values
from tests.e2e.conftest import REPO

UP = "LLM catalogue local stack is up"


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text() if log.exists() else ""
        if text in content:
            return content
        assert process.poll() is None, f"the stack exited:\n{content[-3000:]}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the stack's console within {timeout:.0f} s:\n{content[-3000:]}")


def test_the_canary_passes_the_moment_the_stack_says_up_and_invalid_records_are_counted(tmp_path: Path) -> None:
    edge_port, emulator_port = free_port(), free_port()
    log = tmp_path / "console.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "publisher", "run", "--edge-port", str(edge_port), "--emulator-port",
         str(emulator_port), "--state-dir", str(tmp_path / "state")],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_for_line(log, UP, process, timeout=90)
        # No wait of our own: "up" must already mean a published snapshot and its schemas.
        canary = subprocess.run(
            [sys.executable, "-m", "publisher", "canary", "--edge", f"http://127.0.0.1:{edge_port}",
             "--endpoint", f"http://127.0.0.1:{emulator_port}", "--state-file", ""],
            cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
        assert canary.returncode == 0, canary.stdout + canary.stderr
        assert "freshness " in canary.stdout and "ok   snapshot" in canary.stdout

        import boto3

        dynamodb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{emulator_port}", region_name="us-east-1",
                                aws_access_key_id="x", aws_secret_access_key="x")
        dynamodb.put_item(TableName="llm_scores", Item={"model_name": {"S": "Too High"}, "provider": {"S": "P"},
                                                        "score": {"N": "150"}})
        console = wait_for_line(log, "invalid left out", process, timeout=30)
        line = next(x for x in console.splitlines() if "invalid left out" in x)
        assert line.startswith("publish: 1 records") and "1 invalid left out (InvalidRecords" in line, line
        # The EMF line the publisher would send to CloudWatch, kept off the console.
        metrics = [emf_values(x) for x in (tmp_path / "state" / "metrics.log").read_text().splitlines()]
        assert ("publisher", {"InvalidRecords": 1.0}) in metrics and '{"_aws"' not in console
    finally:
        stop_process(process, timeout=20)
