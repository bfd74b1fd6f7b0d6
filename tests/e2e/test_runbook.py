"""SOLUTION.md's runbook, walked against a local stack: its shell blocks run verbatim, in the order of an incident.

The blocks marked `<!-- runbook:NAME -->` use the variables the runbook's setup defines (TARGET, DLQ,
BUCKET, CANARY); this test sets them for its own stack, whose trigger drops records older than
MAX_RECORD_AGE seconds (the deployed one: 3600), so a stall longer than that parks records as in AWS.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from publisher.local.resources import LOCAL_DLQ_NAME as DLQ_NAME
from tests.conftest import load_event
from tests.e2e.conftest import REPO, RunningStack, start_stack, stop_stack

MAX_RECORD_AGE = 8
BLOCK = re.compile(r"<!-- runbook:(?P<name>[a-z-]+) -->\n```sh\n(?P<body>.*?)\n```", re.DOTALL)


def runbook() -> dict[str, str]:
    blocks = {m["name"]: m["body"] for m in BLOCK.finditer((REPO / "SOLUTION.md").read_text())}
    assert blocks, "SOLUTION.md has no runbook blocks"
    return blocks


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("runbook"), ["--max-record-age", str(MAX_RECORD_AGE)])
    try:
        yield running
    finally:
        stop_stack(running)


@pytest.fixture(scope="module")
def shell(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> object:
    """Runs one named block with the runbook's variables set for this stack; returns (code, output)."""
    state = tmp_path_factory.mktemp("canary") / "canary.json"
    python = shlex.quote(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ENDPOINT_URL": stack.endpoint, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1", "BUCKET": stack.bucket, "TARGET": f"--endpoint {stack.endpoint}",
        "DLQ": stack.client("sqs").get_queue_url(QueueName=DLQ_NAME)["QueueUrl"],
        "CANARY": f"{python} -m publisher canary --edge {stack.edge} --endpoint {stack.endpoint} "
                  f"--state-file {state} --timeout 5",
    })
    blocks = runbook()

    def run(name: str, **extra: str) -> tuple[int, str]:
        script = blocks[name].replace(".venv/bin/python", python)
        result = subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=REPO, env={**env, **extra},
                                capture_output=True, text=True, timeout=300, check=False)
        return result.returncode, result.stdout + result.stderr

    return run


def names(stack: RunningStack) -> dict[str, float]:
    return {m["model_name"]: m["score"] for m in stack.get_json("/llms.json")["models"]}


def put(stack: RunningStack, name: str, score: str) -> None:
    stack.client("dynamodb").put_item(TableName=stack.table, Item={
        "model_name": {"S": name}, "provider": {"S": "Runbook"}, "score": {"N": score}})


def test_every_procedure_the_walk_needs_is_in_the_runbook() -> None:
    assert {"canary", "stop-publishing", "resume-publishing", "dlq-list", "dlq-redrive", "rollback",
            "rebuild"} <= set(runbook())


def test_a_stall_pages_on_freshness_and_its_parked_records_are_redriven(stack: RunningStack, shell: object) -> None:
    code, out = shell("canary")
    assert code == 0, out

    code, out = shell("stop-publishing")
    assert code == 0 and "Disabled" in out, out
    put(stack, "Stalled One", "61")
    put(stack, "Stalled Two", "62")
    code, out = shell("canary")
    assert code != 0 and "canary FAILED: freshness: heartbeat not visible" in out, out

    time.sleep(MAX_RECORD_AGE + 1)  # the stall outlasts the trigger's maximum record age
    code, out = shell("resume-publishing")
    assert code == 0, out
    assert "Enabled" in out and "canary passed" in out, out
    # The trigger drops the aged records (to the DLQ, below); the resume's rebuild publishes the table.
    assert '"drift": 2' in out and {"Stalled One", "Stalled Two"} <= set(names(stack)), out

    # The DLQ's other shape, as Lambda sends it for a failed asynchronous invocation (the hourly
    # reconcile timing out), and a message that is neither: the runbook says it stays in the queue.
    sqs, queue = stack.client("sqs"), stack.client("sqs").get_queue_url(QueueName=DLQ_NAME)["QueueUrl"]
    failed = load_event("dlq_async_invocation")
    sqs.send_message(QueueUrl=queue, MessageBody=failed["Body"], MessageAttributes=failed["MessageAttributes"])
    sqs.send_message(QueueUrl=queue, MessageBody="not a dead letter")

    code, out = shell("dlq-list")
    assert code == 0, out
    assert "RecordAgeExceeded" in out and "Stalled One (INSERT" in out and "Stalled Two (INSERT" in out, out
    assert "of the reconcile rebuild: error 200: Task timed out after 120.00 seconds" in out, out
    batches = out.count("stream batch: ")
    assert batches >= 1 and "unrecognised message" in out and f"{batches + 2} message(s)" in out, out
    code, out = shell("dlq-redrive")
    assert code == 0 and f"deleted {batches + 1} message(s); 1 left in the queue" in out, out
    stack.wait_for(lambda: {"Stalled One", "Stalled Two"} <= set(names(stack)), timeout=10)
    code, out = shell("dlq-list")
    assert code == 0 and "1 message(s)" in out and "'not a dead letter'" in out, out
    (left,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=left["ReceiptHandle"])


def test_a_bad_publish_is_rolled_back_from_the_version_log_then_fixed(stack: RunningStack, shell: object) -> None:
    assert shell("canary")[0] == 0
    good = stack.get_json("/llms.json")["version"]
    put(stack, "GPT-4", "1")  # the bad write
    stack.wait_for(lambda: names(stack)["GPT-4"] == 1, timeout=10)
    bad = stack.get_json("/llms.json")["version"]
    assert bad > good
    assert shell("canary")[0] == 0

    code, out = shell("rollback", GOOD=str(good))
    assert code == 0, out
    assert "publishing: paused" in out and f"would publish version {good}'s catalogue as version {bad + 1}" in out
    assert f"version {good}'s catalogue published as version {bad + 1} (was version {bad})" in out, out
    assert "models changed back: 1 (GPT-4)" in out, out
    stack.wait_for(lambda: stack.get_json("/llms.json")["version"] == bad + 1, timeout=10)
    assert names(stack)["GPT-4"] == 95.5
    # As the runbook says: while paused, the canary's heartbeat is not published.
    code, out = shell("canary")
    assert code != 0 and "freshness: heartbeat not visible" in out, out

    put(stack, "GPT-4", "95.5")  # the fix, in the table, before publishing resumes
    code, out = shell("resume-publishing")
    assert code == 0 and "canary passed" in out and '"drift": ' in out, out
    doc = stack.get_json("/llms.json")
    assert doc["version"] >= bad + 1 and names(stack)["GPT-4"] == 95.5


def test_a_rebuild_reports_no_drift_on_a_healthy_stack(stack: RunningStack, shell: object) -> None:
    code, out = shell("rebuild")
    assert code == 0, out
    assert "Warning" not in out, out
    summary = json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{")))
    assert summary["drift"] == 0 and summary["invalid"] == 0


def test_the_deployed_setup_names_every_variable_the_procedures_use() -> None:
    text = (REPO / "SOLUTION.md").read_text()
    setup = text[text.index("<!-- runbook-setup -->"):text.index("<!-- /runbook-setup -->")]
    # Every variable a procedure uses, in its blocks or in the text an operator follows.
    procedures = text[text.index("<!-- /runbook-setup -->"):]
    used = {v for v in re.findall(r"\$\{?([A-Z_]+)", procedures)} - {"GOOD"}
    assert {"TARGET", "DLQ", "BUCKET", "CANARY", "EDGE"} <= used
    assert all(f"{v}=" in setup for v in used), (used, setup)
    assert Path(REPO / "Makefile").read_text().count("canary:") == 1
