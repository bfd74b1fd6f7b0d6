"""The local stand-in for the stream trigger: batching, partial batch failures, parking, shards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from publisher.local.poller import ShardCursor, StreamPoller, lambda_record, payload_bytes
from publisher.local.trigger_settings import MAX_PAYLOAD_BYTES, SettingsError, TriggerSettings, trigger_settings

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/llm_scores/stream/x"


def raw(seq: int) -> dict[str, Any]:
    return {"eventID": str(seq), "eventName": "INSERT", "dynamodb": {
        "SequenceNumber": str(seq), "Keys": {"model_name": {"S": f"m{seq}"}}}}


class FakeStreams:
    """GetRecords over a fixed list of records, `page` at a time."""

    def __init__(self, records: list[dict[str, Any]], page: int = 1000) -> None:
        self.records, self.page = records, page

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803 - boto3's names
        start = int(ShardIterator)
        chunk = self.records[start:start + min(Limit, self.page)]
        return {"Records": chunk, "NextShardIterator": str(start + len(chunk))}


def run_until_drained(poller: StreamPoller, cursor: ShardCursor, rounds: int = 50) -> None:
    for _ in range(rounds):
        poller.poll_once(cursor)
        if not cursor.buffer and cursor.iterator == str(len(poller.streams.records)):
            return


def test_batches_respect_the_batch_size_and_keep_order() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        return {"batchItemFailures": []}

    poller = StreamPoller(FakeStreams([raw(i) for i in range(1, 8)]), ARN, handler, batch_size=3, window=0)
    run_until_drained(poller, ShardCursor("s", "0"))
    assert seen == [["1", "2", "3"], ["4", "5", "6"], ["7"]]


def test_a_partial_failure_resumes_from_the_lowest_failed_record() -> None:
    seen: list[list[str]] = []
    fail_once = {"5"}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        seen.append(sequences)
        failed = [s for s in sequences if s in fail_once]
        fail_once.difference_update(failed)
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}

    poller = StreamPoller(FakeStreams([raw(i) for i in range(1, 7)]), ARN, handler, batch_size=3, window=0)
    poller._stop.wait = lambda timeout=None: False  # no backoff sleeps in tests
    run_until_drained(poller, ShardCursor("s", "0"))
    assert seen == [["1", "2", "3"], ["4", "5", "6"], ["5", "6"]]


def test_a_record_that_keeps_failing_is_parked_and_the_shard_moves_on() -> None:
    delivered: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        delivered.extend(sequences)
        return {"batchItemFailures": [{"itemIdentifier": "2"}] if "2" in sequences else []}

    parked: list[dict[str, Any]] = []
    poller = StreamPoller(FakeStreams([raw(i) for i in range(1, 4)]), ARN, handler, batch_size=10, window=0,
                          max_retries=2, dead_letter=parked.append)
    poller._stop.wait = lambda timeout=None: False
    run_until_drained(poller, ShardCursor("shardId-1", "0"))
    assert delivered.count("2") == 3 and delivered[-1] == "3"
    (entry,) = parked
    # The documented shape of Lambda's on-failure record for a DynamoDB stream (metadata, not data).
    assert entry["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert entry["requestContext"]["approximateInvokeCount"] == 3
    assert entry["version"] == "1.0" and entry["responseContext"]["functionError"] == "Unhandled"
    info = entry["DDBStreamBatchInfo"]
    assert (info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"],
            info["streamArn"]) == ("shardId-1", "2", "2", 1, ARN)
    assert "Records" not in json.dumps(entry) and "NewImage" not in json.dumps(entry)


def test_records_older_than_the_maximum_age_are_dropped_unseen_with_their_range() -> None:
    import time

    delivered: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        delivered.extend(r["dynamodb"]["SequenceNumber"] for r in event["Records"])
        return {"batchItemFailures": []}

    old, new = time.time() - 7200, time.time()
    records = [raw(1), raw(2), raw(3)]
    for record, created in zip(records, (old, old, new), strict=True):
        record["dynamodb"]["ApproximateCreationDateTime"] = created
    parked: list[dict[str, Any]] = []
    poller = StreamPoller(FakeStreams(records), ARN, handler, batch_size=10, window=0, max_record_age=3600,
                          dead_letter=parked.append)
    run_until_drained(poller, ShardCursor("s", "0"))
    assert delivered == ["3"]
    (entry,) = parked
    assert entry["requestContext"]["condition"] == "RecordAgeExceeded"
    assert entry["requestContext"]["approximateInvokeCount"] == 0
    info = entry["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1", "2", 2)


def test_a_disabled_trigger_reads_nothing_until_enabled() -> None:
    import threading

    delivered: list[str] = []
    enabled = threading.Event()
    streams = FakeStreams([raw(1)])
    streams.describe_stream = lambda StreamArn: {"StreamDescription": {"Shards": [{"ShardId": "s"}]}}  # noqa: N803
    streams.get_shard_iterator = lambda **kw: {"ShardIterator": "0"}
    poller = StreamPoller(streams, ARN, lambda e, c: delivered.extend(
        r["dynamodb"]["SequenceNumber"] for r in e["Records"]) or {}, window=0, poll_interval=0.01,
        enabled=enabled.is_set)
    poller.start()
    try:
        threading.Event().wait(0.3)
        assert delivered == [] and poller.batches == 0
        enabled.set()
        for _ in range(200):
            if delivered:
                break
            threading.Event().wait(0.02)
        assert delivered == ["1"]
    finally:
        poller.stop()


def test_a_raising_handler_bisects_the_batch_and_a_passing_error_costs_one_split() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        if len(seen) == 1:
            raise RuntimeError("cold start hiccup")
        return {"batchItemFailures": []}

    poller = StreamPoller(FakeStreams([raw(i) for i in range(1, 8)]), ARN, handler, batch_size=4, window=0)
    poller._stop.wait = lambda timeout=None: False
    run_until_drained(poller, ShardCursor("s", "0"))
    # Lambda retries each half of the failed batch, then batches as before.
    assert seen == [["1", "2", "3", "4"], ["1", "2"], ["3", "4"], ["5", "6", "7"]]
    assert not poller.parked


def test_a_poison_record_in_a_full_batch_is_isolated_by_bisecting_and_parked_alone() -> None:
    delivered: list[str] = []
    calls = {"n": 0}
    poison = "6789"

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls["n"] += 1
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        if poison in sequences:
            raise RuntimeError("the publisher crashes on this record")
        delivered.extend(sequences)
        return {"batchItemFailures": []}

    records = [raw(i) for i in range(1, 10_001)]
    parked: list[dict[str, Any]] = []
    poller = StreamPoller(FakeStreams(records), ARN, handler, batch_size=10_000, window=0, max_retries=2,
                          dead_letter=parked.append)
    poller._stop.wait = lambda timeout=None: False
    # The whole backlog already read (as within a batching window): the first batch is all of it.
    fresh = [lambda_record(r, ARN) for r in records]
    cursor = ShardCursor("s", str(len(records)), fresh, [payload_bytes(r) for r in fresh])
    run_until_drained(poller, cursor, rounds=200)
    (entry,) = parked
    info = entry["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["batchSize"]) == (poison, 1)
    assert entry["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert delivered == [str(i) for i in range(1, 10_001) if str(i) != poison]  # each once, in order
    # About two invocations per halving (log2 of 10,000 is 14) and the retries of the lone record.
    assert calls["n"] <= 2 * 14 + 2 + 10


def test_a_batch_gathers_several_get_records_pages_up_to_the_batch_size() -> None:
    seen: list[int] = []
    records = [raw(i) for i in range(1, 5_001)]
    poller = StreamPoller(FakeStreams(records), ARN, lambda e, c: seen.append(len(e["Records"])) or {},
                          batch_size=10_000, window=60)
    cursor = ShardCursor("s", "0")
    while len(cursor.buffer) < len(records):
        assert poller.poll_once(cursor)  # each page read is work: the poller reads on without a pause
    assert seen == []  # 5 pages of 1,000: still inside the window (long, so a slow machine cannot end it)
    cursor.first_buffered -= 61
    poller.poll_once(cursor)
    assert seen == [5_000]


def test_a_batch_ends_before_lambdas_6_mb_payload() -> None:
    seen: list[int] = []
    padding = "x" * 100_000
    records = [{**raw(i), "dynamodb": {**raw(i)["dynamodb"], "NewImage": {"pad": {"S": padding}}}}
               for i in range(1, 101)]

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert len(json.dumps(event)) <= MAX_PAYLOAD_BYTES
        seen.append(len(event["Records"]))
        return {}

    poller = StreamPoller(FakeStreams(records), ARN, handler, batch_size=10_000, window=0)
    run_until_drained(poller, ShardCursor("s", "0"))
    assert sum(seen) == 100 and len(seen) == 2 and seen[0] > 50


def test_the_poller_batches_as_infra_deploys_the_trigger() -> None:
    settings = trigger_settings()
    poller = StreamPoller(FakeStreams([]), ARN, lambda e, c: {})
    assert (poller.batch_size, poller.window, poller.max_retries) == (
        settings.batch_size, settings.window_seconds, settings.max_retries)
    assert (settings.batch_size, settings.window_seconds) == (10_000, 1.0)


def test_trigger_settings_come_from_the_variables_defaults_or_a_clear_error(tmp_path: Path) -> None:
    variables = tmp_path / "variables.tf"
    body = "".join(f'variable "{name}" {{\n  type = number\n  default = {value}\n}}\n' for name, value in
                   [("stream_batch_size", 250), ("stream_batching_window_seconds", 3), ("stream_max_retries", 1),
                    ("stream_max_record_age_seconds", 600)])
    variables.write_text(body)
    assert trigger_settings(variables) == TriggerSettings(250, 3.0, 1, 600)
    variables.write_text(body.replace("stream_max_retries", "other"))
    with pytest.raises(SettingsError, match="stream_max_retries"):
        trigger_settings(variables)


def test_a_batch_waits_for_the_window_unless_full() -> None:
    seen: list[int] = []
    poller = StreamPoller(FakeStreams([raw(1)]), ARN, lambda e, c: seen.append(len(e["Records"])) or {},
                          batch_size=10, window=3600)
    cursor = ShardCursor("s", "0")
    poller.poll_once(cursor)
    assert seen == [] and len(cursor.buffer) == 1


def test_lambda_record_has_epoch_seconds_and_the_source_arn() -> None:
    from datetime import UTC, datetime

    record = {"eventID": "e", "eventName": "MODIFY", "awsRegion": "us-east-1",
              "dynamodb": {"ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC), "SequenceNumber": "9"}}
    shaped = lambda_record(record, ARN)
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == 1767225600.0
    assert shaped["eventSourceARN"] == ARN and shaped["eventSource"] == "aws:dynamodb"
