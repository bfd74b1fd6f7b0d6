"""Dated snapshots against moto, through the publisher handler with an injected clock: one immutable
copy of llms.json per UTC day, listed in snapshots/index.json, never overwritten."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest

from publisher.core import aws, schemas
from publisher.publish import dated_snapshots
from publisher.publish import handler as publish
from publisher.publish.store import SiteStore
from tests.conftest import TEST_BUCKET, read_site_json, stream_record
from tests.published_schemas import schema_for_key


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(bucket: str) -> Iterator[Clock]:
    publish.reset()
    clock = Clock(datetime(2026, 3, 1, 23, 59, 58, tzinfo=UTC))
    publish.publisher().now = clock
    yield clock
    publish.reset()


def write(lambda_context: Any, sequence: int, name: str, score: float) -> None:
    record = stream_record("INSERT", sequence, name, new={"model_name": name, "provider": "Acme", "score": score})
    assert publish.handler({"Records": [record]}, lambda_context) == {"batchItemFailures": []}


def validate(document: Any) -> None:
    definition = schema_for_key("snapshots/index.json")
    assert definition == "SnapshotIndex"
    validator = jsonschema.Draft202012Validator(schemas.standalone(definition),
                                                format_checker=jsonschema.FormatChecker())
    validator.validate(document)


def test_a_publish_just_after_midnight_keeps_the_new_day_and_leaves_the_old_one(
        clock: Clock, lambda_context: Any) -> None:
    s3 = aws.client("s3")
    write(lambda_context, 1, "Model A", 50)
    old_day = s3.get_object(Bucket=TEST_BUCKET, Key="snapshots/2026-03-01.json")
    old_bytes = old_day["Body"].read()
    assert old_day["CacheControl"] == "public, max-age=31536000, immutable"
    write(lambda_context, 2, "Model A", 55)  # the same UTC day: today's copy stays version 1
    assert read_site_json("snapshots/2026-03-01.json")["version"] == 1
    clock.at += timedelta(seconds=3)  # 2026-03-02T00:00:01Z
    write(lambda_context, 3, "Model B", 60)
    index = read_site_json("snapshots/index.json")
    validate(index)
    assert index["snapshots"] == [
        {"date": "2026-03-01", "version": 1, "count": 1, "url": "/snapshots/2026-03-01.json"},
        {"date": "2026-03-02", "version": 3, "count": 2, "url": "/snapshots/2026-03-02.json"},
    ]
    assert s3.get_object(Bucket=TEST_BUCKET, Key="snapshots/2026-03-01.json")["Body"].read() == old_bytes
    new_day = s3.get_object(Bucket=TEST_BUCKET, Key="snapshots/2026-03-02.json")["Body"].read()
    assert new_day == s3.get_object(Bucket=TEST_BUCKET, Key="llms.json")["Body"].read()
    head = s3.head_object(Bucket=TEST_BUCKET, Key="snapshots/index.json")
    assert "s-maxage=" in head["CacheControl"] and "immutable" not in head["CacheControl"]


def test_the_day_is_the_utc_date_whatever_the_clock_zone(clock: Clock, lambda_context: Any) -> None:
    # 01:30 in UTC+02:00 is still the previous day in UTC.
    clock.at = datetime(2026, 3, 2, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    write(lambda_context, 1, "Model A", 50)
    assert [e["date"] for e in read_site_json("snapshots/index.json")["snapshots"]] == ["2026-03-01"]


def test_the_scheduled_reconcile_keeps_the_day_when_nothing_was_written(
        clock: Clock, table: str, lambda_context: Any) -> None:
    aws.client("dynamodb").put_item(TableName="llm_scores", Item={"model_name": {"S": "Model A"},
                                                         "provider": {"S": "Acme"}, "score": {"N": "50"}})
    publish.handler({"action": "rebuild"}, lambda_context)
    clock.at += timedelta(days=1)
    publish.handler({"action": "rebuild"}, lambda_context)  # no drift: the version stays 1
    index = read_site_json("snapshots/index.json")
    validate(index)
    assert [(e["date"], e["version"]) for e in index["snapshots"]] == [("2026-03-01", 1), ("2026-03-02", 1)]


def test_a_day_already_kept_is_never_overwritten_even_by_a_newer_version(bucket: str) -> None:
    store = SiteStore(aws.client("s3"), bucket)
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    first = dated_snapshots.SiteObject("llms.json", b'{"version":1,"count":0,"models":[]}', "application/json", "")
    assert dated_snapshots.keep(store, first, 1, now) == "2026-03-01"
    # The index lost today's entry (a publish died between the two PUTs): the next one lists the
    # copy the bucket holds, not its own.
    store.s3.delete_object(Bucket=bucket, Key=dated_snapshots.INDEX_KEY)
    second = dated_snapshots.SiteObject("llms.json", b'{"version":7,"count":3,"models":[]}', "application/json", "")
    assert dated_snapshots.keep(store, second, 7, now) == "2026-03-01"
    assert read_site_json("snapshots/2026-03-01.json")["version"] == 1
    assert read_site_json("snapshots/index.json")["snapshots"][0]["version"] == 1
    assert dated_snapshots.keep(store, second, 7, now) is None  # complete: nothing written


def test_racing_publishers_keep_one_copy_and_one_entry_per_day(bucket: str) -> None:
    store = SiteStore(aws.client("s3"), bucket)
    days = [datetime(2026, 3, d, 8, tzinfo=UTC) for d in (1, 2, 3, 4)]
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def run(worker: int) -> None:
        body = f'{{"version":{worker + 1},"count":{worker},"models":[]}}'.encode()
        barrier.wait()
        try:
            for day in days:
                dated_snapshots.keep(store, dated_snapshots.SiteObject("llms.json", body, "application/json", ""),
                                     worker + 1, day)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    index = read_site_json("snapshots/index.json")
    assert [e["date"] for e in index["snapshots"]] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    for entry in index["snapshots"]:
        kept = read_site_json(entry["url"].lstrip("/"))
        assert (kept["version"], kept["count"]) == (entry["version"], entry["count"])


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        dated_snapshots.utc_day(datetime(2026, 3, 1, 12))  # noqa: DTZ001 - the point of the test
