"""The read API's data source with fake clients: conditional revalidation, DynamoDB fallback, outages."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from publisher.model import sorted_records
from publisher.read.catalogue import SOURCE_DYNAMODB, SOURCE_S3
from publisher.read.errors import Unavailable
from publisher.read.source import SnapshotSource, age_seconds
from publisher.render import catalogue_document, dumps

MODELS = [
    {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5},
    {"model_name": "Llama 3 70B", "provider": "Meta", "context_window": 8192, "score": 89.5},
]


def client_error(code: str, operation: str = "GetObject") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.calls: list[dict[str, Any]] = []
        self.fail: BaseException | None = None

    def put(self, key: str, body: bytes) -> None:
        self.objects[key] = (body, f'"etag-{len(self.calls)}-{len(body)}-{hash(body) & 0xFFFF}"')

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.fail is not None:
            raise self.fail
        if kwargs["Key"] not in self.objects:
            raise client_error("NoSuchKey")
        body, etag = self.objects[kwargs["Key"]]
        if kwargs.get("IfNoneMatch") == etag:
            raise client_error("304")
        return {"Body": io.BytesIO(body), "ETag": etag}


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


def test_the_scanned_document_keeps_the_last_seen_version(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(7))
    source = make(s3, ddb, clock)
    from_s3 = source.current()
    del s3.objects["llms.json"]
    clock.now += 5
    scanned = source.current()
    assert (scanned.source, scanned.version) == (SOURCE_DYNAMODB, 7)
    # Same data, same version and time: the failover serves the very bytes S3 held.
    assert scanned.document_bytes() == from_s3.document_bytes()


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


def test_forced_refresh_is_rate_limited(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("llms.json", snapshot(1))
    source = make(s3, ddb, clock)
    source.current()
    source.current(force=True)
    assert len(s3.calls) == 1
    clock.now += 0.5
    source.current(force=True)
    assert len(s3.calls) == 2


def test_history_reads_the_object_or_none(parts: tuple[FakeS3, FakeDynamoDB, Clock]) -> None:
    s3, ddb, clock = parts
    s3.put("history/gpt-4.json", b'{"events":[]}')
    source = make(s3, ddb, clock)
    assert source.history("gpt-4") == b'{"events":[]}'
    assert source.history("nope") is None
    s3.fail = client_error("500")
    with pytest.raises(Unavailable):
        source.history("gpt-4")


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
