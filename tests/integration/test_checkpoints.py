"""Checkpoints of the committed catalogue equal the log replayed from empty, whatever failed on the way;
the catalogue at every version, read from them, equals that version's llms.json; catch-up by version
(/api/changes) brings any older llms.json to the current one exactly."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.core import replay
from publisher.core.documents import log_key
from publisher.publish import checkpoints
from publisher.publish.feed import install as install_feed
from publisher.publish.publisher import Publisher
from publisher.read import openapi, versions
from publisher.read.api import ReadApi
from publisher.read.catalogue import SOURCE_S3, Catalogue
from publisher.read.http import Request
from tests.integration.test_feed_properties import Delivery, FlakyStore, Table, plain_site, publish_all, scenario
from tests.unit.test_read_api import FakeSource

__all__ = ["plain_site"]  # the fixture, used by name
EVERY = 3  # small, so short histories cross several checkpoints
_buckets = itertools.count()
FAILS = [None, replay.CHECKPOINT_PREFIX, replay.CHECKPOINT_INDEX_KEY, "llms.json"]


def _replayed(get: Any, version: int) -> dict[str, dict[str, Any]]:
    models: dict[str, dict[str, Any]] = {}
    for v in range(1, version + 1):
        replay.apply(models, json.loads(get(log_key(v)))["changes"])
    return models


def _llms_by_version(s3: Any, bucket: str) -> dict[int, dict[str, Any]]:
    """Every version of llms.json the bucket kept (it is versioned), by snapshot version."""
    found = {}
    for entry in s3.list_object_versions(Bucket=bucket, Prefix="llms.json").get("Versions", []):
        body = s3.get_object(Bucket=bucket, Key="llms.json", VersionId=entry["VersionId"])["Body"].read()
        document = json.loads(body)
        found[document["version"]] = document
    return found


@pytest.fixture
def every(monkeypatch: pytest.MonkeyPatch) -> int:
    for module in (replay, checkpoints, versions):
        monkeypatch.setattr(module, "CHECKPOINT_EVERY", EVERY)
    return EVERY


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(scenario(), st.lists(st.sampled_from(FAILS), min_size=8, max_size=8))
def test_checkpoints_equal_the_replayed_log_and_every_version_reads_exactly(
    mocked_aws: None, plain_site: None, every: int, case: tuple[list[Any], list[Delivery], set[int]],
    fails: list[str | None]
) -> None:
    from publisher.core import aws
    from publisher.local.resources import ensure_bucket

    writes, deliveries, lost = case
    for delivery, fail in zip(deliveries, fails, strict=False):
        delivery.fail_once = fail or delivery.fail_once
    s3 = aws.client("s3")
    bucket = f"checkpoint-property-{next(_buckets)}"
    ensure_bucket(s3, bucket)
    store = FlakyStore(s3, bucket)
    pub = Publisher(store=store, sleep=lambda _: None)
    install_feed(pub, changes_limit=10_000, history_limit=10_000, base_url="")
    checkpoints.install(pub)
    table = Table()
    changes = [table.apply(op, key, args, sequence) for sequence, (op, key, args) in enumerate(writes)]
    publish_all(pub, store, table, changes, deliveries, lost)

    current = json.loads(store.get_bytes("llms.json") or b'{"version": 0}')["version"]
    entries, first = replay.parse_index(store.get_bytes(replay.CHECKPOINT_INDEX_KEY))
    assert [e.version for e in entries] == list(range(every, current + 1, every))
    for entry in entries:
        body = store.get_bytes(replay.checkpoint_key(entry.version)) or b""
        head, pieces = replay.split_checkpoint(body)
        models = {m["model_name"]: m for m in json.loads(body)["models"]}
        assert [json.loads(p) for p in pieces] == list(models.values())
        assert models == _replayed(store.get_bytes, entry.version)
        assert head == entry
        assert head.committed_text == json.loads(store.get_bytes(log_key(entry.version)) or b"")["committed_at"]
    if entries:
        assert first == json.loads(store.get_bytes(log_key(1)) or b"")["committed_at"]

    published = _llms_by_version(s3, bucket)
    assert current in published or current == 0
    reads: list[str] = []

    def fetch(key: str) -> bytes | None:
        reads.append(key)
        return store.get_bytes(key)

    log = versions.VersionLog(fetch, lambda: datetime.now(UTC) + timedelta(seconds=1))
    for version in range(current + 1):
        want = {m["model_name"]: m for m in published[version]["models"]} if version in published else \
            _replayed(store.get_bytes, version)
        cold = versions.VersionLog(fetch, lambda: datetime.now(UTC))
        reads.clear()
        assert cold.models(version) == want, version
        # A cold read: the index, at most one checkpoint and fewer logs than a checkpoint's span.
        assert len([k for k in reads if k.startswith("internal/log/")]) < every, reads
        assert log.models(version) == want, version
        if version in published:  # the as-of catalogue holds the published records, in the published order
            assert json.loads(cold.catalogue(version).document_bytes())["models"] == published[version]["models"]

    # Catch-up: llms.json as published at any version, plus /api/changes since it (small pages, so
    # the cursor is crossed), gives the current llms.json's models exactly.
    if current:
        api = _api(store)
        for version, document in published.items():
            held = {m["model_name"]: m for m in document["models"]}
            query, seen = f"since={version}&limit=2", 0
            while query:
                response = api.handle(Request("GET", "/api/changes", query))
                assert response.status == 200, response.body
                page = json.loads(response.body)
                assert page["version"] == current and [c["version"] for c in page["changes"]] == sorted(
                    c["version"] for c in page["changes"]) and all(c["version"] > version for c in page["changes"])
                for change in page["changes"]:
                    seen += 1
                    if change["record"] is None:
                        held.pop(change["model_name"])
                    else:
                        held[change["model_name"]] = change["record"]
                query = page["next"] and f"since={version}&limit=2&cursor={page['next']}"
            assert held == {m["model_name"]: m for m in published[current]["models"]}, version
            assert seen == sum(len(json.loads(store.get_bytes(log_key(v)) or b"")["changes"])
                               for v in range(version + 1, current + 1))


def _api(store: FlakyStore) -> ReadApi:
    """The read API over the bucket as the publisher left it (its current llms.json and private objects)."""
    source = FakeSource(Catalogue.from_document(store.get_bytes("llms.json") or b"", SOURCE_S3, '"x"'),
                        _Objects(store))
    return ReadApi(source, openapi.document_bytes)  # type: ignore[arg-type]


class _Objects(dict):  # type: ignore[type-arg]
    """The bucket's objects as FakeSource reads them (never empty: FakeSource takes `objects or {}`)."""

    def __init__(self, store: FlakyStore) -> None:
        super().__init__({"": b""})
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        return self.store.get_bytes(key)


def test_racing_and_retried_checkpoint_writes_keep_one_object_and_every_index_entry(bucket: str) -> None:
    """8 publishers write the checkpoints of versions 32, 64, 96 and 128 (each twice: a retry) at once:
    each checkpoint is written once with its only bytes, and the index lists each exactly once."""
    import threading

    from publisher.core import aws
    from publisher.publish.changelog import entry as log_entry
    from publisher.publish.feed import LOG_PENDING_KEY
    from publisher.publish.state import Change, State
    from publisher.publish.store import SiteStore

    store = SiteStore(aws.client("s3"), bucket)
    stamp = "2026-03-01T00:00:00.000Z"

    def state(version: int) -> State:
        models = {f"M{i}": {"model_name": f"M{i}", "provider": "P", "score": float(i)} for i in range(version // 32)}
        change = Change("M0", None, models["M0"], stamp, str(version), "stream")
        return State(version=version, models=models, extra={LOG_PENDING_KEY: [log_entry(version, [change], stamp)]})

    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def run(worker: int) -> None:
        barrier.wait()
        try:
            for version in [32 * (1 + (worker + k) % 4) for k in range(8)]:
                store.publish(checkpoints.render(state(version), [], store), version)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    entries, first = replay.parse_index(store.get_bytes(replay.CHECKPOINT_INDEX_KEY))
    assert [e.version for e in entries] == [32, 64, 96, 128]
    for version in (32, 64, 96, 128):
        expected = checkpoints.checkpoint_object(state(version))
        assert expected is not None and store.get_bytes(replay.checkpoint_key(version)) == expected.body
        key = replay.checkpoint_key(version)
        assert len(aws.client("s3").list_object_versions(Bucket=bucket, Prefix=key)["Versions"]) == 1
