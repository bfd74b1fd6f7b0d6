"""`make infra-local` beside a running `make run`: it adopts what the local stack already created.

The local stack creates the table and the publisher's dead-letter queue under the names infra/
declares. A plain apply would fail with QueueAlreadyExists (it did, once the local trigger got its
DLQ), or, given a mapping on the table, let moto drain the stream the local poller reads. Here an
emulator holds what `make run` creates (made by the same functions the local stack calls), with a
parked batch in the queue; infra-local must adopt both, leave the stream trigger off, keep the
parked message, and on `--destroy` hand both back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.conftest import SCRIPTS, LocalStack, emulator_client, require_module

PARKED = {"requestContext": {"condition": "RetryAttemptsExhausted"}, "DDBStreamBatchInfo": {"batchSize": 1}}


@pytest.fixture(scope="module")
def make_run_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_module("moto.server")
    from publisher.local.emulator import free_port, start_emulator

    log = tmp_path_factory.mktemp("moto-adopt") / "moto.log"
    with start_emulator("127.0.0.1", free_port(), reuse=False, log_path=log) as emulator:
        yield emulator.endpoint


def _infra_local(endpoint: str, workdir: Path, dist: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "infra_local.py"), "--endpoint", endpoint, "--workdir", str(workdir),
         "--dist", str(dist), "--no-start", "--quiet", *extra],
        capture_output=True, text=True, timeout=420,
    )


# Two Terraform runs (an apply with two imports, then a destroy) on top of the session's own apply.
@pytest.mark.timeout(900)
def test_infra_local_adopts_a_running_make_runs_table_and_queue_and_gives_them_back(
    local_stack: LocalStack, make_run_emulator: str, tmp_path: Path,
) -> None:
    from publisher.local.resources import LOCAL_DLQ_NAME, ensure_queue, ensure_table

    endpoint = make_run_emulator
    ensure_table(emulator_client(endpoint, "dynamodb"), "llm_scores")
    sqs = emulator_client(endpoint, "sqs")
    queue_url = ensure_queue(sqs)
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(PARKED))

    applied = _infra_local(endpoint, tmp_path, local_stack.dist, "--fresh")
    assert applied.returncode == 0, f"infra-local beside make run failed:\n{applied.stderr[-6000:]}"
    assert "as aws_sqs_queue.publisher_dlq" in applied.stderr
    outputs = json.loads(applied.stdout)
    assert outputs["dlq_url"].rstrip("/").endswith(f"/{LOCAL_DLQ_NAME}")
    assert outputs["table_name"] == "llm_scores"
    # The trigger stays off: the local poller, not moto, consumes the adopted table's stream.
    assert emulator_client(endpoint, "lambda").list_event_source_mappings()["EventSourceMappings"] == []
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1", "the parked batch was lost on adoption"
    assert attributes.get("KmsMasterKeyId"), "the adopted queue did not get infra/'s encryption"

    destroyed = _infra_local(endpoint, tmp_path, local_stack.dist, "--destroy")
    assert destroyed.returncode == 0, f"infra-local --destroy failed:\n{destroyed.stderr[-6000:]}"
    assert "llm_scores" in emulator_client(endpoint, "dynamodb").list_tables()["TableNames"]
    assert sqs.get_queue_url(QueueName=LOCAL_DLQ_NAME)["QueueUrl"] == queue_url
    remaining = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert remaining["Attributes"]["ApproximateNumberOfMessages"] == "1"
    assert not list(tmp_path.glob("adopted-*")), "a handed-back resource is still marked adopted"
