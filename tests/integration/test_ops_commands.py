"""Operator commands: `rebuild --function` waits out the function and never re-invokes; the DLQ's two shapes."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from publisher.ops import dlq, rebuild
from tests.conftest import load_event


class FakeLambda:
    """The two Lambda API calls `rebuild --function` makes, with a configurable slow invoke."""

    def __init__(self, timeout: int, delay: float) -> None:
        self.timeout, self.delay, self.invocations = timeout, delay, 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, document: dict[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                assert self.path.endswith("/configuration"), self.path
                self._json({"FunctionName": "publisher", "Timeout": fake.timeout})

            def do_POST(self) -> None:  # noqa: N802
                assert self.path.endswith("/invocations"), self.path
                self.rfile.read(int(self.headers["Content-Length"]))
                fake.invocations += 1
                time.sleep(fake.delay)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self._json({"version": 7, "drift": 0, "written": 3, "invalid": 0})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def fake_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLambda]:
    fake = FakeLambda(timeout=1, delay=0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fake.url)
    yield fake
    fake.server.shutdown()


def test_the_wait_exceeds_the_functions_own_timeout() -> None:
    assert rebuild.invoke_read_timeout(120) > 120
    assert rebuild.invoke_read_timeout(rebuild.LAMBDA_MAX_TIMEOUT_SECONDS) > 900


def test_a_rebuild_slower_than_botocores_habit_is_waited_for_once(
    fake_lambda: FakeLambda, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Scaled down: the function may run 1 s, the client waits 1 + 2 s, the rebuild answers after 2 s.
    monkeypatch.setattr(rebuild, "INVOKE_MARGIN_SECONDS", 2)
    fake_lambda.delay = 2.0
    assert rebuild.invoke("publisher", {"action": "rebuild"}) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 7
    assert fake_lambda.invocations == 1


def test_no_answer_in_time_is_reported_and_never_reinvoked(
    fake_lambda: FakeLambda, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(rebuild, "INVOKE_MARGIN_SECONDS", 0)
    fake_lambda.delay = 2.5
    assert rebuild.invoke("publisher", {"action": "rebuild"}) == 2
    assert "may still be running" in capsys.readouterr().err
    time.sleep(3)
    assert fake_lambda.invocations == 1


def test_a_default_client_would_have_invoked_the_rebuild_again(fake_lambda: FakeLambda) -> None:
    """Why the client matters: botocore's default retries re-send an Invoke whose answer timed out."""
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ReadTimeoutError

    fake_lambda.delay = 1.5
    client = botocore.session.get_session().create_client("lambda", config=Config(read_timeout=1))
    with pytest.raises(ReadTimeoutError):
        client.invoke(FunctionName="publisher", Payload=b"{}")
    time.sleep(2)
    assert fake_lambda.invocations >= 2


def test_the_stream_on_failure_record_is_read_as_a_stream_batch() -> None:
    # The example invocation record of Lambda's documentation for DynamoDB stream destinations.
    kind, details = dlq.classify(json.dumps(load_event("dlq_stream_batch")), {})
    assert kind == dlq.STREAM_BATCH
    assert details["condition"] == "RetryAttemptsExhausted"
    assert (details["first_sequence"], details["last_sequence"], details["batch_size"]) == (
        "800000000003126276362", "800000000003126276362", 1)
    assert details["shard"] == "shardId-00000001573689847184-864758bb"
    letter = dlq.DeadLetter("m", "h", kind, details, note="records no longer readable from the stream")
    assert "RetryAttemptsExhausted" in dlq.describe(letter) and "no longer readable" in dlq.describe(letter)


def test_a_failed_asynchronous_rebuild_is_read_as_a_failed_invocation() -> None:
    message = load_event("dlq_async_invocation")
    kind, details = dlq.classify(message["Body"], message["MessageAttributes"])
    assert kind == dlq.FAILED_INVOCATION and details["rebuild"] is True
    assert details["error_message"] == "Task timed out after 120.00 seconds"
    assert "the reconcile rebuild" in dlq.describe(dlq.DeadLetter("m", "h", kind, details))


def test_anything_else_is_left_alone() -> None:
    kind, _ = dlq.classify("hello", {})
    assert kind == dlq.UNKNOWN


@pytest.fixture
def parked(mocked_aws: None) -> tuple[Any, str, dict[str, Any]]:
    """A DLQ holding a failed rebuild's message and one it cannot read: (client, queue URL, the former)."""
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    failed = load_event("dlq_async_invocation")
    sqs.send_message(QueueUrl=queue, MessageBody=failed["Body"], MessageAttributes=failed["MessageAttributes"])
    sqs.send_message(QueueUrl=queue, MessageBody="not a dead letter")
    return sqs, queue, failed


def redrive_args(queue: str) -> Any:
    import argparse

    return argparse.Namespace(queue_url=queue, redrive=True, max_messages=10, function=None, endpoint="")


def test_a_failed_redrive_leaves_every_message_visible_at_once(
    parked: tuple[Any, str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, queue, failed = parked
    monkeypatch.setattr(dlq, "rebuild", lambda args, reason: 1)
    assert dlq.main(redrive_args(queue)) == 1
    assert "the messages stay in the queue" in capsys.readouterr().err
    # Visible to the next `dlq` run now, not after the redrive's 15-minute hold.
    visible = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in visible) == sorted([failed["Body"], "not a dead letter"])


def test_a_redrive_deletes_what_it_repaired_and_releases_the_rest(
    parked: tuple[Any, str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, queue, _ = parked
    rebuilds: list[str] = []
    monkeypatch.setattr(dlq, "rebuild", lambda args, reason: rebuilds.append(reason) or 0)
    assert dlq.main(redrive_args(queue)) == 0
    assert rebuilds == ["dlq-redrive"]
    assert "deleted 1 message(s); 1 left in the queue" in capsys.readouterr().out
    (left,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert left["Body"] == "not a dead letter"
