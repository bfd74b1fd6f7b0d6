"""Big batches, as the trigger now delivers them: bounded S3 requests, Lambda's payload limit, poison records.

The local poller (publisher/local/poller.py) with the real publisher handler on moto, fed from a
list of stream records in Lambda's shape.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.common import largest_items, synthetic_items
from publisher.core import aws
from publisher.core.history_shards import split
from publisher.core.identity import HISTORY_SHARD_PREFIX, HISTORY_SHARDS
from publisher.local.poller import ShardCursor, StreamPoller
from publisher.local.trigger_settings import MAX_PAYLOAD_BYTES
from publisher.publish import handler as publish
from publisher.publish.publisher import Publisher
from publisher.publish.store import SiteStore
from tests.conftest import read_history, read_site_json, stream_record
from tests.unit.test_poller import ARN, FakeStreams, run_until_drained


@pytest.fixture
def site(bucket: str) -> str:
    publish.reset()
    return bucket


class S3Calls:
    """Every S3 request the client makes, by operation and key."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        aws.client("s3").meta.events.register("before-call.s3", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, params.get("Key", "")))

    def count(self, operation: str | None = None, prefix: str = "") -> int:
        return sum(1 for op, key in self.calls if (operation is None or op == operation) and key.startswith(prefix))


def inserts(items: list[dict[str, Any]], first_sequence: int = 1) -> list[dict[str, Any]]:
    return [stream_record("INSERT", first_sequence + i, item["model_name"], new=item) for i, item in enumerate(items)]


def poller(records: list[dict[str, Any]], handler: Any, **settings: Any) -> StreamPoller:
    built = StreamPoller(FakeStreams(records), ARN, handler, batch_size=10_000, window=0, **settings)
    built._stop.wait = lambda timeout=None: False  # no backoff sleeps in tests
    return built


def test_a_5000_model_batch_reads_and_writes_each_history_shard_at_most_once(
        site: str, lambda_context: Any) -> None:
    items = synthetic_items(5_000)
    calls = S3Calls()
    assert publish.handler({"Records": inserts(items)}, lambda_context) == {"batchItemFailures": []}
    assert calls.count("GetObject", HISTORY_SHARD_PREFIX) <= HISTORY_SHARDS
    assert calls.count("PutObject", HISTORY_SHARD_PREFIX) <= HISTORY_SHARDS
    # Before shards, 5,000 GETs and 5,000 PUTs of history objects; now the whole publish is bounded
    # by the shards and the site's own objects (llms.json, the page, providers, schemas, assets).
    assert calls.count() <= 2 * HISTORY_SHARDS + 100
    store = SiteStore(aws.client("s3"), site)
    lines = {name for i in range(HISTORY_SHARDS)
             for name in split(f"{HISTORY_SHARD_PREFIX}{i:02d}.jsonl",
                               store.get_bytes(f"{HISTORY_SHARD_PREFIX}{i:02d}.jsonl"))}
    assert lines == {item["model_name"] for item in items}
    for item in items[::997]:
        assert [e["kind"] for e in read_history(item["model_name"])["events"]] == ["added"]


def test_batches_of_the_largest_valid_items_stay_within_lambdas_payload_and_all_publish(
        site: str, lambda_context: Any) -> None:
    items = largest_items(600)
    records = [stream_record("MODIFY", i + 1, item["model_name"], new=item, old=item) for i, item in enumerate(items)]
    sizes: list[tuple[int, int]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        sizes.append((len(event["Records"]), len(json.dumps(event, ensure_ascii=False).encode())))
        return publish.handler(event, lambda_context)

    local = poller(records, handler)
    run_until_drained(local, ShardCursor("s", "0"))
    # 10,000 such records would be about 270 MB: Lambda, and the local trigger, end each batch at 6 MB.
    assert all(size <= MAX_PAYLOAD_BYTES for _, size in sizes)
    assert sum(count for count, _ in sizes) == len(items) and len(sizes) == 3
    assert read_site_json("llms.json")["count"] == len(items) and not local.parked


def test_a_malformed_record_in_a_big_batch_goes_to_the_dlq_alone(site: str, lambda_context: Any) -> None:
    items = synthetic_items(3_000)
    records = inserts(items)
    poison = records[1_700]
    del poison["dynamodb"]["NewImage"]  # an INSERT without its new image cannot be applied
    invocations: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        invocations.append(len(event["Records"]))
        return publish.handler(event, lambda_context)

    parked: list[dict[str, Any]] = []
    local = poller(records, handler, max_retries=2, dead_letter=parked.append)
    run_until_drained(local, ShardCursor("s", "0"))
    assert [(p["DDBStreamBatchInfo"]["startSequenceNumber"], p["DDBStreamBatchInfo"]["batchSize"])
            for p in parked] == [(poison["dynamodb"]["SequenceNumber"], 1)]
    published = {m["model_name"] for m in read_site_json("llms.json")["models"]}
    assert published == {item["model_name"] for item in items} - {items[1_700]["model_name"]}
    # The whole batch (3 pages of GetRecords), then the retries from the poison on, then the rest.
    assert len(invocations) <= 2 + 2 + 1


def test_a_record_that_crashes_the_publisher_is_isolated_by_bisecting_and_the_rest_publish(
        site: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    items = synthetic_items(2_000)
    crasher = items[1_234]["model_name"]
    real = Publisher.apply_stream

    def apply_stream(self: Publisher, changes: list[Any]) -> Any:
        if any(change.key == crasher for change in changes):
            raise RuntimeError("a bug this record triggers")
        return real(self, changes)

    monkeypatch.setattr(Publisher, "apply_stream", apply_stream)
    invocations: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        invocations.append(len(event["Records"]))
        return publish.handler(event, lambda_context)

    parked: list[dict[str, Any]] = []
    local = poller(inserts(items), handler, max_retries=1, dead_letter=parked.append)
    local.window = 3600  # the backlog is read whole (two GetRecords pages) before the batch goes out
    cursor = ShardCursor("s", "0")
    local.poll_once(cursor)
    local.poll_once(cursor)
    cursor.first_buffered -= 7200
    run_until_drained(local, cursor, rounds=100)
    assert [(p["DDBStreamBatchInfo"]["startSequenceNumber"], p["DDBStreamBatchInfo"]["batchSize"])
            for p in parked] == [("1235".rjust(21, "0"), 1)]
    assert invocations[0] == 2_000 and invocations[-1] < 2_000
    published = {m["model_name"] for m in read_site_json("llms.json")["models"]}
    assert published == {item["model_name"] for item in items} - {crasher}
    assert len(invocations) <= 2 * 11 + 2  # two per halving (log2 of 2,000 is 11), and the retries
