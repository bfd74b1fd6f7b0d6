"""Property: the change feed is a faithful, duplicate-free log of the snapshot, whatever the delivery."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.core.clock import iso
from publisher.core.documents import LOG_PREFIX, SiteObject, log_key
from publisher.core.identity import HISTORY_SHARD_PREFIX
from publisher.publish.feed import TRACKED, ChangeFeed
from publisher.publish.feed import install as install_feed
from publisher.publish.publisher import Publisher
from publisher.publish.state import StreamChange
from publisher.publish.store import SiteStore, StoreError
from tests.conftest import stored_history

# "GPT-4" and "gpt 4" share a slug (never a key, nor a history line); all three may share a shard.
KEYS = ("GPT-4", "gpt 4", "Claude 3 Opus")
REMOVE = "<remove>"
_buckets = itertools.count()
STARTED = datetime.now(UTC) - timedelta(hours=1)

scores = st.sampled_from([Decimal("0"), Decimal("89.5"), Decimal("95.5"), Decimal("96.1"), Decimal("100"),
                          Decimal("101")])  # 101 fails validation: the model leaves the snapshot
values = {
    "provider": st.sampled_from(["OpenAI", "Anthropic", "Meta"]),
    "score": scores,
    "context_window": st.sampled_from([Decimal(8192), Decimal(128000)]),
    "version": st.sampled_from(["0613", "2024-08-06"]),
    "release_date": st.sampled_from(["2023-03-14", "2024-05-13"]),
    "benchmarks": st.just({"mmlu": Decimal("86.4")}),
    "updated_at": st.sampled_from(["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"]),
}


@st.composite
def full_item(draw: st.DrawFn, key: str) -> dict[str, Any]:
    item: dict[str, Any] = {"model_name": key, "provider": draw(values["provider"]), "score": draw(scores)}
    for name in ("context_window", "version", "release_date", "benchmarks", "updated_at"):
        if draw(st.booleans()):
            item[name] = draw(values[name])
    return item


@st.composite
def write(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    key = draw(st.sampled_from(KEYS))
    op = draw(st.sampled_from(["put", "update", "update", "delete"]))
    if op == "put":
        return op, key, draw(full_item(key))
    if op == "update":
        names = draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=3, unique=True))
        return op, key, {n: draw(st.one_of(values[n], st.just(REMOVE))) for n in names}
    return op, key, {}


@dataclass
class Delivery:
    end: int  # deliver records[start:end]
    start: int
    fail_once: str | None = None  # a write of a key with this prefix fails after the commit
    retry_later: bool = False  # the failed batch is retried after the next one (another shard went first)
    rebuild_at: int | None = None  # then a rebuild scans the table as of this many writes


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[tuple[str, str, dict[str, Any]]], list[Delivery], set[int]]:
    writes = draw(st.lists(write(), min_size=1, max_size=14))
    n = len(writes)
    cuts = sorted(set(draw(st.lists(st.integers(1, n), min_size=1, max_size=6))) | {n})
    deliveries, start = [], 0
    for end in cuts:
        fail = draw(st.sampled_from([None, None, HISTORY_SHARD_PREFIX, HISTORY_SHARD_PREFIX, LOG_PREFIX, "changes",
                                     "llms.json"]))
        deliveries.append(Delivery(end, start, fail, draw(st.booleans())))
        if draw(st.integers(0, 3)) == 0:  # a replay of records already delivered (retry, bisect)
            deliveries.append(Delivery(end, draw(st.integers(0, end - 1))))
        if draw(st.integers(0, 5)) == 0:
            deliveries[-1].rebuild_at = draw(st.integers(end, n))
        start = end
    # Records that never arrive (parked in the DLQ): only a rebuild can repair what they changed.
    lost = set(draw(st.lists(st.integers(0, n - 1), max_size=2)))
    return writes, deliveries, lost


class FlakyStore(SiteStore):
    """Fails one object write when armed, after the state commit, like a transient S3 error."""

    armed: str | None = None

    def _put(self, obj: SiteObject, version: int, attempts: int = 5) -> tuple[bool, int, str | None]:
        if self.armed and obj.key.startswith(self.armed):
            self.armed = None
            raise StoreError(f"injected failure writing {obj.key}")
        return super()._put(obj, version, attempts)


@dataclass
class Table:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, dict[str, Any]]] = field(default_factory=list)

    def apply(self, op: str, key: str, args: dict[str, Any], sequence: int) -> StreamChange | None:
        old = self.items.get(key)
        if op == "put":
            new: dict[str, Any] | None = dict(args)
        elif op == "update":
            new = dict(old or {"model_name": key})
            for name, value in args.items():
                if value == REMOVE:
                    new.pop(name, None)
                else:
                    new[name] = value
        else:
            new = None
        if new is None:
            self.items.pop(key, None)
        else:
            self.items[key] = new
        self.history.append({k: dict(v) for k, v in self.items.items()})
        if old is None and new is None:
            return None  # deleting a missing item writes no stream record
        name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        # Recent times: the publisher forgets a removed key's sequence after the stream's 24 h
        # retention, so records older than that would (rightly) no longer count as replays.
        at = iso(STARTED + timedelta(seconds=sequence))
        return StreamChange(key, str(1000 + sequence), name, new, at, old)


def replay(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rebuild the catalogue's tracked values from the events alone, oldest first."""
    catalogue: dict[str, dict[str, Any]] = {}
    for event in reversed(events):
        name = event["model_name"]
        if event["field"] is None:
            if event["new"] is None:
                assert name in catalogue, event
                del catalogue[name]
            else:
                assert event["kind"] == "reconciled" or name not in catalogue, event
                catalogue[name] = dict(event["new"])
        else:
            values_now = catalogue[name]
            assert values_now.get(event["field"]) == event["old"], event
            if event["new"] is None:
                values_now.pop(event["field"])
            else:
                values_now[event["field"]] = event["new"]
    return catalogue


def publish_all(pub: Publisher, store: FlakyStore, table: Table, changes: list[StreamChange | None],
                deliveries: list[Delivery], lost: set[int]) -> None:
    def deliver(batch: list[StreamChange]) -> bool:
        try:
            pub.apply_stream(batch)
        except StoreError:
            return False
        return True

    deferred: list[list[StreamChange]] = []
    for delivery in deliveries:
        batch = [c for i, c in enumerate(changes[delivery.start:delivery.end], start=delivery.start)
                 if c is not None and i not in lost]
        store.armed = delivery.fail_once
        ok = deliver(batch)
        store.armed = None
        for pending in deferred:
            assert deliver(pending)
        deferred = []
        if not ok:
            if delivery.retry_later:
                deferred.append(batch)
            else:
                assert deliver(batch)
        if delivery.rebuild_at is not None:
            pub.rebuild(list(table.history[delivery.rebuild_at - 1].values()))
    for pending in deferred:
        assert deliver(pending)


@pytest.fixture
def plain_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-line page template: this property is about the feed, not the page (tested elsewhere)."""
    from publisher.publish.render import ENV_SITE_DIR

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html.j2").write_text("v{{ snapshot.version }}\n")
    monkeypatch.setenv(ENV_SITE_DIR, str(tmp_path))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(scenario(), st.booleans())
def test_feed_replayed_from_empty_reproduces_the_snapshot_without_duplicates(
    mocked_aws: None, plain_site: None, case: tuple[list[Any], list[Delivery], set[int]], final_rebuild: bool
) -> None:
    from publisher.core import aws
    from publisher.local.resources import ensure_bucket

    writes, deliveries, lost = case
    s3 = aws.client("s3")
    bucket = f"feed-property-{next(_buckets)}"
    ensure_bucket(s3, bucket)
    store = FlakyStore(s3, bucket)
    pub = Publisher(store=store, sleep=lambda _: None)
    feed = install_feed(pub, changes_limit=10_000, history_limit=10_000, base_url="")
    assert isinstance(feed, ChangeFeed)

    table = Table()
    changes = [table.apply(op, key, args, sequence) for sequence, (op, key, args) in enumerate(writes)]
    publish_all(pub, store, table, changes, deliveries, lost)
    if final_rebuild:
        pub.rebuild(list(table.items.values()))

    snapshot = json.loads(store.get_bytes("llms.json") or b"{}")
    expected = {m["model_name"]: {f: m[f] for f in TRACKED if f in m} for m in snapshot.get("models", [])}
    feed_doc = json.loads(store.get_bytes("changes.json") or b'{"events": []}')
    events = feed_doc["events"]

    assert replay(events) == expected
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), "duplicate event ids"
    stream_events = [(e["model_name"], e["sequence"], e["kind"], e["field"]) for e in events if e["sequence"]]
    assert len(stream_events) == len(set(stream_events)), "one stream change recorded twice"
    versions = [e["version"] for e in events]
    assert versions == sorted(versions, reverse=True)
    if events:
        assert feed_doc["version"] == snapshot["version"] >= versions[0]

    # Each model's history, read back from its line of its (shared) shard, tells the same story.
    for name in {e["model_name"] for e in events}:
        history = json.loads(stored_history(store.get_bytes, name) or b"{}")
        own = [e for e in history["events"] if e["model_name"] == name]
        assert own == [e for e in events if e["model_name"] == name]
        assert replay(own) == ({name: expected[name]} if name in expected else {})

    # The version log, replayed from empty, gives every published version exactly, whole records
    # included: one log per version, each change's `old` the record the version before held.
    published: dict[str, dict[str, Any]] = {}
    for version in range(1, snapshot.get("version", 0) + 1):
        logged = json.loads(store.get_bytes(log_key(version)) or b"null")
        assert logged is not None and logged["version"] == version, version
        for change in logged["changes"]:
            assert published.get(change["model_name"]) == change["old"], change
            if change["new"] is None:
                published.pop(change["model_name"])
            else:
                published[change["model_name"]] = change["new"]
    assert published == {m["model_name"]: m for m in snapshot.get("models", [])}

    if final_rebuild:
        table_now = {k: {f: float(v[f]) if f in ("score",) else v[f] for f in TRACKED if f in v}
                     for k, v in table.items.items() if Decimal(0) <= v.get("score", -1) <= 100
                     and "provider" in v}
        assert {k: {f: (int(v) if f == "context_window" else v) for f, v in vals.items()}
                for k, vals in table_now.items()} == expected
