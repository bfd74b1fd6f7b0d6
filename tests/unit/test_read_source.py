"""The read API's data source with fake clients: conditional revalidation, DynamoDB fallback, outages."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from publisher.core.documents import catalogue_document, dumps
from publisher.core.model import sorted_records
from publisher.read.catalogue import SOURCE_DYNAMODB, SOURCE_S3
from publisher.read.errors import Unavailable
from publisher.read.source import SnapshotSource, age_seconds

MODELS = [
    {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5},
    {"model_name": "Llama 3 70B", "provider": "Meta", "context_window": 8192, "score": 89.5},
]


def client_error(code: str, operation: str = "GetObject") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class FakeS3:
    """S3 as the read role sees it: objects with snapshot-version metadata, in a versioned bucket."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str, dict[str, str]]] = {}
        self.versions: dict[str, list[tuple[str, int, dict[str, str]]]] = {}
        self.calls: list[dict[str, Any]] = []
        self.fail: BaseException | None = None
        self._tick = 0

    def put(self, key: str, body: bytes, version: int | None = None) -> None:
        self._tick += 1
        metadata = {"snapshot-version": str(version)} if version is not None else {}
        self.objects[key] = (body, f'"etag-{len(self.calls)}-{len(body)}-{hash(body) & 0xFFFF}"', metadata)
        self.versions.setdefault(key, []).append((f"v{self._tick}", self._tick, metadata))

    def delete(self, key: str) -> None:
        """A delete in a versioned bucket: the key is gone, its versions stay."""
        del self.objects[key]

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.fail is not None:
            raise self.fail
        if kwargs["Key"] not in self.objects:
            raise client_error("NoSuchKey")
        body, etag, _ = self.objects[kwargs["Key"]]
        if kwargs.get("IfNoneMatch") == etag:
            raise client_error("304")
        return {"Body": io.BytesIO(body), "ETag": etag}

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        if "VersionId" in kwargs:
            for version_id, _, metadata in self.versions.get(kwargs["Key"], []):
                if version_id == kwargs["VersionId"]:
                    return {"Metadata": metadata}
            raise client_error("404", "HeadObject")
        if kwargs["Key"] not in self.objects:
            raise client_error("404", "HeadObject")
        return {"Metadata": self.objects[kwargs["Key"]][2]}

    def list_object_versions(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        return {"Versions": [
            {"Key": key, "VersionId": version_id, "LastModified": datetime.fromtimestamp(tick, UTC)}
            for key, versions in self.versions.items() if key.startswith(kwargs["Prefix"])
            for version_id, tick, _ in versions
        ]}


class FakeDynamoDB:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.scans = 0
        self.fail: BaseException | None = None

    def get_paginator(self, name: str) -> FakeDynamoDB:
        assert name == "scan"
        return self

    def paginate(self, **kwargs: Any) -> Any:
        self.scans += 1
        if self.fail is not None:
            raise self.fail
        # Two pages, as a table past 1 MB would give.
        half = len(self.items) // 2
        yield {"Items": self.items[:half]}
        yield {"Items": self.items[half:]}


def av(model: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in model.items():
        out[key] = {"S": value} if isinstance(value, str) else {"N": str(value)}
    return out


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def snapshot(version: int, models: list[dict[str, Any]] = MODELS) -> bytes:
    return dumps(catalogue_document(version, "2026-01-01T00:00:00Z", sorted_records(models)))


def make(s3: FakeS3, ddb: FakeDynamoDB, clock: Clock, revalidate: float = 5) -> SnapshotSource:
    return SnapshotSource(lambda: s3, lambda: ddb, "bucket", "llm_scores", revalidate, clock=clock)


@pytest.fixture
def parts() -> tuple[FakeS3, FakeDynamoDB, Clock]:
    return FakeS3(), FakeDynamoDB([av(m) for m in MODELS]), Clock()


def test_snapshot_from_s3_is_reused_until_it_is_due(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    source = make(s3, ddb, clock)
    first = source.current()
    assert (first.source, first.version, first.count) == (SOURCE_S3, 1, 2)
    clock.now += 4.9
    assert source.current() is first
    assert len(s3.calls) == 1 and ddb.scans == 0


def test_revalidation_is_a_conditional_get_and_a_304_keeps_the_copy(
    parts: tuple[FakeS3, FakeDynamoDB, Clock],
) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    source = make(s3, ddb, clock)
    first = source.current()
    clock.now += 5
    assert source.current() is first
    assert s3.calls[-1]["IfNoneMatch"] == first.etag


def test_a_new_snapshot_replaces_the_copy(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    source = make(s3, ddb, clock)
    source.current()
    s3.put("llms.json", snapshot(2, MODELS[:1]))
    clock.now += 5
    assert (source.current().version, source.current().count) == (2, 1)


def test_missing_snapshot_falls_back_to_a_paginated_scan(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    source = make(s3, ddb, clock)
    catalogue = source.current()
    assert (catalogue.source, catalogue.count) == (SOURCE_DYNAMODB, 2)
    assert [m["model_name"] for m in catalogue.models] == ["GPT-4", "Llama 3 70B"]


def test_the_scan_is_cached_briefly_too(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    source = make(s3, ddb, clock)
    source.current()
    clock.now += 1
    source.current()
    assert ddb.scans == 1
    clock.now += 5
    source.current()
    assert ddb.scans == 2


@pytest.mark.parametrize(
    "failure",
    [
        client_error("500"),
        client_error("SlowDown"),
        client_error("InternalError"),
        EndpointConnectionError(endpoint_url="http://s3"),
    ],
)
def test_s3_errors_fall_back_to_dynamodb(
    parts: tuple[FakeS3, FakeDynamoDB, Clock], failure: BaseException
) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    s3.fail = failure
    assert make(s3, ddb, clock).current().source == SOURCE_DYNAMODB


def test_a_corrupt_snapshot_falls_back_to_dynamodb(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", b"<html>oops</html>")
    assert make(s3, ddb, clock).current().source == SOURCE_DYNAMODB


def test_access_denied_counts_as_missing(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.fail = client_error("AccessDenied")
    assert make(s3, ddb, clock).current().source == SOURCE_DYNAMODB


def test_invalid_items_are_skipped_and_logged_with_key_and_reason(
    parts: tuple[FakeS3, FakeDynamoDB, Clock], caplog: pytest.LogCaptureFixture
) -> None:
    s3, ddb, clock = parts
    ddb.items.append(av({"model_name": "Broken", "provider": "X", "score": 250}))
    ddb.items.append(av({"model_name": "NoProvider", "score": 50}))
    with caplog.at_level(logging.WARNING, logger="publisher.read.source"):
        catalogue = make(s3, ddb, clock).current()
    assert catalogue.count == 2
    skipped = {(r.model_name, r.reason) for r in caplog.records if hasattr(r, "model_name")}  # type: ignore[attr-defined]
    assert ("Broken", "score must be between 0 and 100, got 250") in skipped
    assert any(name == "NoProvider" and "provider" in reason for name, reason in skipped)


def test_a_bidi_or_zero_width_name_is_skipped_and_logged_with_the_character_made_visible(
    parts: tuple[FakeS3, FakeDynamoDB, Clock], caplog: pytest.LogCaptureFixture
) -> None:
    s3, ddb, clock = parts
    ddb.items.append(av({"model_name": "Evil\u202emodel", "provider": "X", "score": 50}))
    ddb.items.append(av({"model_name": "GPT\u200b-4o", "provider": "X", "score": 50}))
    with caplog.at_level(logging.WARNING, logger="publisher.read.source"):
        catalogue = make(s3, ddb, clock).current()
    assert catalogue.count == 2
    skipped = {r.model_name: r.reason for r in caplog.records if hasattr(r, "model_name")}  # type: ignore[attr-defined]
    # Logged as sent but readable: the raw U+202E would reverse the rest of the operator's line.
    assert set(skipped) == {"Evil<U+202E>model", "GPT<U+200B>-4o"}
    assert "U+202E" in skipped["Evil<U+202E>model"] and "U+200B" in skipped["GPT<U+200B>-4o"]


def test_the_scanned_document_keeps_the_last_seen_version_and_says_it_is_a_fallback(
        parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(7))
    source = make(s3, ddb, clock)
    from_s3 = source.current()
    s3.delete("llms.json")
    clock.now += 5
    scanned = source.current()
    assert (scanned.source, scanned.version) == (SOURCE_DYNAMODB, 7)
    document = json.loads(scanned.document_bytes())
    assert document["fallback"]["source"] == "dynamodb" and document["fallback"]["reason"] == "snapshot_missing"
    assert document["models"] == json.loads(from_s3.document_bytes())["models"]


def publish(s3: FakeS3, versions: range) -> None:
    """What the publisher leaves in the bucket: llms then llms.json, each with its version metadata."""
    for version in versions:
        s3.put("llms", b"[]", version)
        s3.put("llms.json", snapshot(version), version)


def test_a_cold_instance_with_llms_json_deleted_labels_the_scan_with_the_published_version(
        parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    publish(s3, range(1, 6))
    s3.delete("llms.json")
    scanned = make(s3, ddb, clock).current()
    assert (scanned.source, scanned.version) == (SOURCE_DYNAMODB, 5)
    assert scanned.fallback is not None


def test_with_both_lists_deleted_the_version_comes_from_the_deleted_objects_versions(
        parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    publish(s3, range(1, 42))
    s3.delete("llms.json")
    s3.delete("llms")
    assert make(s3, ddb, clock).current().version == 41


def test_a_fallback_that_can_find_no_version_says_null_never_zero(
        parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.fail = client_error("503")
    scanned = make(s3, ddb, clock).current()
    assert scanned.version is None
    document = json.loads(scanned.document_bytes())
    assert document["version"] is None and document["fallback"]["reason"] == "snapshot_unreadable"


def test_an_s3_outage_keeps_the_version_this_instance_saw(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    publish(s3, range(1, 10))
    source = make(s3, ddb, clock)
    assert source.current().version == 9
    s3.fail = client_error("503")
    clock.now += 5
    assert (source.current().source, source.current().version) == (SOURCE_DYNAMODB, 9)


def test_min_version_forces_a_revalidation_of_an_older_copy(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    publish(s3, range(1, 3))
    source = make(s3, ddb, clock)
    assert source.current().version == 2
    publish(s3, range(3, 4))
    clock.now += 0.2
    assert source.current().version == 2
    assert source.current(min_version=3).version == 3


def test_no_data_at_all_is_unavailable(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.fail = client_error("500")
    ddb.fail = client_error("ProvisionedThroughputExceededException", "Scan")
    source = make(s3, ddb, clock)
    with pytest.raises(Unavailable):
        source.current()
    # Straight after a double failure, the next request gets its 503 without another attempt.
    with pytest.raises(Unavailable):
        source.current()
    assert ddb.scans == 1


def test_a_failed_refresh_keeps_serving_the_copy_it_has(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    source = make(s3, ddb, clock)
    first = source.current()
    s3.fail = client_error("503")
    ddb.fail = client_error("InternalServerError", "Scan")
    clock.now += 5
    assert source.current() is first


def test_failover_routes_revalidate_an_s3_copy_at_once(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    source = make(s3, ddb, clock)
    source.current()
    del s3.objects["llms.json"]
    assert source.current().source == SOURCE_S3
    assert source.current(prefer_fresh_s3=True).source == SOURCE_DYNAMODB


def test_a_forced_refresh_always_looks_at_s3_again(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    # A name not found may have been published a moment ago: no rate limit may hide it.
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    source = make(s3, ddb, clock)
    source.current()
    source.current()
    assert len(s3.calls) == 1
    source.current(force=True)
    source.current(force=True)
    assert len(s3.calls) == 3


def test_concurrent_forced_refreshes_share_one_look_begun_after_they_arrived(
        parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    import threading

    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    source = make(s3, ddb, clock)
    source.current()
    gate, entered = threading.Event(), threading.Event()
    original = s3.get_object

    def slow_get(**kwargs: Any) -> dict[str, Any]:
        entered.set()
        gate.wait(5)
        return original(**kwargs)

    class CountingLock:
        """The source's lock, counting the threads that queue for it."""

        def __init__(self, lock: Any) -> None:
            self.lock, self.queued = lock, threading.Semaphore(0)

        def acquire(self, blocking: bool = True) -> bool:
            self.queued.release()
            return bool(self.lock.acquire(blocking))

        def release(self) -> None:
            self.lock.release()

    lock = CountingLock(source._lock)
    source._lock = lock  # type: ignore[assignment]
    s3.get_object = slow_get  # type: ignore[method-assign]
    first = threading.Thread(target=source.current, kwargs={"force": True})
    first.start()
    entered.wait(5)
    assert lock.queued.acquire(timeout=5)
    # Three more arrive while that look runs: it began before them, so they need a new one, and share it.
    waiting = [threading.Thread(target=source.current, kwargs={"force": True}) for _ in range(3)]
    for thread in waiting:
        thread.start()
    for _ in waiting:
        assert lock.queued.acquire(timeout=5)
    gate.set()
    for thread in [first, *waiting]:
        thread.join(5)
    assert len(s3.calls) == 3  # the first load, the first forced look, one shared by the three


def test_object_bytes_are_cached_revalidated_conditionally_and_kept_through_an_outage(
    parts: tuple[FakeS3, FakeDynamoDB, Clock],
) -> None:
    s3, ddb, clock = parts
    shard = "internal/history/07.jsonl"
    s3.put(shard, b"one\n")
    source = make(s3, ddb, clock)
    assert source.object_bytes(shard) == b"one\n"
    assert source.object_bytes("internal/history/nope.jsonl") is None
    calls = len(s3.calls)
    s3.put(shard, b"two\n")
    assert source.object_bytes(shard) == b"one\n" and len(s3.calls) == calls  # within the interval
    assert source.object_bytes(shard, fresh=True) == b"two\n"  # a look at once
    clock.now += 5
    assert source.object_bytes(shard) == b"two\n"
    assert s3.calls[-1]["IfNoneMatch"] == s3.objects[shard][1]  # a conditional GET: 304
    s3.fail = client_error("500")
    clock.now += 5
    assert source.object_bytes(shard) == b"two\n"  # the copy in hand while S3 fails
    with pytest.raises(Unavailable):
        source.object_bytes("internal/history/other.jsonl")


def test_age_is_since_generated_at_for_s3_and_since_the_scan_for_dynamodb(
    parts: tuple[FakeS3, FakeDynamoDB, Clock],
) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    catalogue = make(s3, ddb, clock).current()
    now = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert age_seconds(catalogue, None, now) == 60
    scanned = make(FakeS3(), ddb, clock).current()
    assert age_seconds(scanned, datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC), now) == 30


def test_a_fallback_scan_is_kept_for_a_while_but_s3_is_tried_at_every_revalidation(
        parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    source = make(s3, ddb, clock, revalidate=0.25)
    assert source.current().source == SOURCE_DYNAMODB
    for _ in range(8):
        clock.now += 0.5
        source.current()
    assert ddb.scans == 1 and len(s3.calls) == 9
    clock.now += 1.5
    source.current()
    assert ddb.scans == 2
    publish(s3, range(1, 3))
    clock.now += 0.5
    assert (source.current().source, source.current().version) == (SOURCE_S3, 2)


def test_while_s3_fails_the_fallback_does_not_ask_it_for_versions(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    asked: list[str] = []
    s3.head_object = lambda **kw: asked.append("head")  # type: ignore[method-assign,assignment,return-value]
    s3.list_object_versions = lambda **kw: asked.append("list")  # type: ignore[method-assign,assignment,return-value]
    s3.fail = client_error("503")
    assert make(s3, ddb, clock).current().source == SOURCE_DYNAMODB
    assert asked == []
