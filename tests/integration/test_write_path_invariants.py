"""Issue 20's failure classes at their seams: orphaned provider files (retries, paused publishers,
deletes), a rebuild racing the stream, and a rebuild with nothing changed (against moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from publisher.core import aws
from publisher.core.clock import iso
from publisher.core.config import STATE_KEY
from publisher.core.documents import json_object
from publisher.publish import handler as publish
from publisher.publish.publisher import Publisher
from publisher.publish.state import StreamChange
from publisher.publish.store import SiteStore, StoreError
from tests.conftest import TEST_BUCKET, read_history

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def item(name: str, provider: str, score: str) -> dict[str, Any]:
    return {"model_name": name, "provider": provider, "score": Decimal(score), "context_window": 8192,
            "version": "1", "release_date": "2026-01-02", "benchmarks": {"mmlu": Decimal("80.5")},
            "updated_at": "2026-01-02T00:00:00Z"}


def change(sequence: int, new: dict[str, Any] | None, key: str = "M", at: datetime = NOW) -> StreamChange:
    return StreamChange(key, str(sequence), "MODIFY" if new else "REMOVE", new, iso(at))


def keys(prefix: str) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=TEST_BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


class Recording:
    """A boto3 S3 client that records writes and can fail or pause at a chosen call."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3
        self.writes: list[tuple[str, str]] = []
        self.before: dict[tuple[str, str], Any] = {}

    def _call(self, op: str, **kwargs: Any) -> Any:
        action = self.before.pop((op, kwargs.get("Key", "")), None)
        if action is not None:
            action()
        if op in ("put_object", "delete_object"):
            self.writes.append((op, kwargs["Key"]))
        return getattr(self.s3, op)(**kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in ("put_object", "delete_object", "head_object", "get_object"):
            return lambda **kwargs: self._call(name, **kwargs)
        return getattr(self.s3, name)


def publisher(s3: Any | None = None) -> Publisher:
    pub = publish.build_publisher(publish.config())
    pub.store = SiteStore(s3 or aws.client("s3"), TEST_BUCKET)
    for hook_owner in (*pub.state_hooks, *pub.extensions, *pub.rebuild_hooks):
        owner = getattr(hook_owner, "__self__", None)
        if owner is not None and hasattr(owner, "store"):
            owner.store = pub.store
    pub.now = lambda: NOW
    pub.sleep = lambda _: None
    return pub


def fail(message: str) -> Any:
    def raise_error() -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": message}}, "PutObject")
    return raise_error


def test_a_retry_after_a_failed_write_past_the_commit_deletes_the_orphaned_provider(bucket: str) -> None:
    s3 = Recording(aws.client("s3"))
    pub = publisher(s3)
    pub.apply_stream([change(1, item("M", "Old Lab", "50"))])
    assert "providers/old-lab--" in "".join(keys("providers/"))
    s3.before[("put_object", "changes.json")] = fail("one 500 on changes.json")
    batch = [change(2, item("M", "New Lab", "50"))]
    with pytest.raises(StoreError):
        pub.apply_stream(batch)
    pub.apply_stream(batch)  # the event source mapping's retry: nothing new to apply, a heal
    assert [k for k in keys("providers/") if "old-lab" in k] == []
    assert len(keys("providers/")) == 1


def test_a_failed_delete_of_an_orphan_is_retried_by_a_heartbeat_heal(bucket: str) -> None:
    s3 = Recording(aws.client("s3"))
    pub = publisher(s3)
    pub.apply_stream([change(1, item("M", "Old Lab", "50"))])
    orphan = keys("providers/")[0]
    s3.before[("head_object", orphan)] = fail("a 500 on the orphan's HEAD")
    with pytest.raises(StoreError):
        pub.apply_stream([change(2, item("M", "New Lab", "50"))])
    pub.apply_stream([])  # any later invocation (a heal) finishes the delete
    assert orphan not in keys("providers/")


def test_a_paused_publisher_does_not_recreate_a_provider_file_a_newer_publish_deleted(bucket: str) -> None:
    raw = aws.client("s3")
    first = publisher()
    first.apply_stream([change(1, item("M", "Old Lab", "50"), key="M"), change(2, item("N", "Old Lab", "40"), key="N")])
    orphan = keys("providers/")[0]
    paused = Recording(raw)
    slow = publisher(paused)
    newer = publisher()

    def newer_publish_runs() -> None:
        # While the paused publisher holds version 2, version 3 moves both models off "Old Lab"
        # and deletes its file.
        newer.apply_stream([change(4, item("M", "New Lab", "50"), key="M"),
                            change(5, item("N", "New Lab", "40"), key="N")])
        assert orphan not in keys("providers/")

    paused.before[("head_object", orphan)] = newer_publish_runs
    slow.apply_stream([change(3, item("N", "Old Lab", "41"), key="N")])
    assert orphan not in keys("providers/"), "the paused publisher's copy outlived its provider"
    assert json.loads(raw.get_object(Bucket=TEST_BUCKET, Key="llms.json")["Body"].read())["version"] == 3


def test_a_delete_never_removes_a_file_a_newer_publish_wrote_after_the_check(bucket: str) -> None:
    raw = aws.client("s3")
    store = SiteStore(raw, TEST_BUCKET)
    store.put_if_newer(json_object("providers/x.json", {"v": 1}), 1)
    racing = Recording(raw)
    racing.before[("delete_object", "providers/x.json")] = (
        lambda: store.put_if_newer(json_object("providers/x.json", {"v": 3}), 3))
    assert SiteStore(racing, TEST_BUCKET).delete_if_not_newer("providers/x.json", 2) is False
    assert json.loads(raw.get_object(Bucket=TEST_BUCKET, Key="providers/x.json")["Body"].read()) == {"v": 3}


def test_the_rebuild_removes_a_provider_file_no_model_names(bucket: str) -> None:
    pub = publisher()
    pub.apply_stream([change(1, item("M", "Lab", "50"))])
    SiteStore(aws.client("s3"), TEST_BUCKET).put_if_newer(json_object("providers/ghost.json", {"v": 0}), 0)
    pub.rebuild([item("M", "Lab", "50")])
    assert keys("providers/") == ["providers/lab--" + keys("providers/")[0].split("--")[1]]


def test_a_rebuild_racing_the_stream_scans_again_and_never_reverts_a_newer_value(bucket: str) -> None:
    s3 = Recording(aws.client("s3"))
    pub = publisher(s3)
    pub.apply_stream([change(1, item("M", "Lab", "50"))])
    # "Lost" is drift (its stream record went to the DLQ): the rebuild must commit.
    table = {"M": item("M", "Lab", "50"), "Lost": item("Lost", "Lab", "10")}
    scans: list[str] = []

    def scan() -> list[dict[str, Any]]:
        seen = [dict(v) for v in table.values()]
        scans.append(str(seen[0]["score"]))
        return seen

    def stream_publishes_a_newer_score() -> None:
        table["M"] = item("M", "Lab", "77")
        publisher().apply_stream([change(2, table["M"], at=NOW + timedelta(seconds=1))])

    # Between the rebuild's read of the state and its commit the stream publishes a newer score.
    s3.before[("put_object", STATE_KEY)] = stream_publishes_a_newer_score
    pub.now = lambda: NOW + timedelta(seconds=1)
    pub.rebuild(scan)
    catalogue = json.loads(aws.client("s3").get_object(Bucket=TEST_BUCKET, Key="llms.json")["Body"].read())
    assert [m["score"] for m in catalogue["models"]] == [77.0, 10.0]
    assert scans == ["50", "77"], "the conflict retry re-applied the first scan"
    assert "reconciled" not in [e["kind"] for e in read_history("M")["events"]]
    assert [e["kind"] for e in read_history("Lost")["events"]] == ["reconciled"]


def test_a_rebuild_keeps_a_value_the_stream_wrote_during_its_scan_even_without_a_conflict(bucket: str) -> None:
    pub = publisher()
    pub.apply_stream([change(1, item("M", "Lab", "50"))])
    stale_scan = [item("M", "Lab", "50")]
    publisher().apply_stream([change(2, item("M", "Lab", "77"), at=NOW + timedelta(seconds=2))])
    pub.now = lambda: NOW + timedelta(seconds=1)  # the scan began before the stream's change
    pub.rebuild(stale_scan)
    catalogue = json.loads(aws.client("s3").get_object(Bucket=TEST_BUCKET, Key="llms.json")["Body"].read())
    assert [m["score"] for m in catalogue["models"]] == [77.0]


def test_a_rebuild_commits_while_the_stream_publishes_during_every_scan(bucket: str) -> None:
    """The game day's redrive (issue 24) scanned 3,000+ models inside its read-to-commit window while
    the stream published a bulk seed's backlog: every attempt lost its race and the redrive failed,
    leaving the DLQ's writes unpublished. The scan now runs before the state is read."""
    pub = publisher()
    pub.apply_stream([change(1, item("M", "Lab", "50"))])
    table = {"M": item("M", "Lab", "50"), "Lost": item("Lost", "Lab", "10")}
    scans = 0

    def slow_scan() -> list[dict[str, Any]]:
        nonlocal scans
        scans += 1
        seen = [dict(v) for v in table.values()]
        # While this scan runs the stream publishes a new model (not in what the scan returns).
        name = f"New {scans}"
        table[name] = item(name, "Lab", "60")
        publisher().apply_stream([change(1 + scans, table[name], key=name, at=NOW + timedelta(seconds=2))])
        return seen

    pub.now = lambda: NOW + timedelta(seconds=1)
    pub.rebuild(slow_scan)
    catalogue = json.loads(aws.client("s3").get_object(Bucket=TEST_BUCKET, Key="llms.json")["Body"].read())
    assert sorted(m["model_name"] for m in catalogue["models"]) == sorted(table)
    assert [e["kind"] for e in read_history("Lost")["events"]] == ["reconciled"]


def test_a_rebuild_with_nothing_changed_writes_no_object(bucket: str) -> None:
    s3 = Recording(aws.client("s3"))
    pub = publisher(s3)
    table = [item("M", "Lab", "50"), item("Zed", "Other Lab", "60")]
    pub.apply_stream([change(1, item("M", "Lab", "40"), key="M"), change(2, table[1], key="Zed")])
    # A second batch: "Zed" now comes back from the state's bytes, "M" from the stream.
    pub.apply_stream([change(3, table[0], key="M")])
    s3.writes.clear()
    pub.rebuild(table)  # renders every record as the scan gives it: byte for byte what was published
    assert s3.writes == [("put_object", "internal/layout.json")]  # the bucket's one-time layout marker
    s3.writes.clear()
    result = pub.rebuild(table)
    assert s3.writes == []
    assert result.written == 0 and result.changed == 0


def test_a_catalogue_back_to_earlier_bytes_still_marks_llms_with_its_version_so_a_slower_publisher_cannot_win(
        bucket: str) -> None:
    # `llms` (the bare array) names no version in its bytes: when version 3's catalogue equals version
    # 1's, skipping the equal bytes left the marker at 1, and a paused version-2 publisher then
    # overwrote it, so /llms showed version 2's catalogue beside version 3's llms.json for good.
    from publisher.core.documents import JSON_CACHE_CONTROL, JSON_TYPE, SiteObject

    raw = aws.client("s3")
    store = SiteStore(raw, TEST_BUCKET)

    def llms(body: bytes) -> SiteObject:
        return SiteObject("llms", body, JSON_TYPE, JSON_CACHE_CONTROL, marks_version=True)

    assert store.put_if_newer(llms(b'[{"model_name":"A"}]'), 1)[0]
    assert store.put_if_newer(llms(b'[{"model_name":"A"}]'), 3)[0], "equal bytes of a newer version"
    assert store.head("llms").version == 3
    assert not store.put_if_newer(llms(b'[{"model_name":"B"}]'), 2)[0], "a slower publisher overwrote"
    assert raw.get_object(Bucket=TEST_BUCKET, Key="llms")["Body"].read() == b'[{"model_name":"A"}]'
    assert not store.put_if_newer(llms(b'[{"model_name":"A"}]'), 3)[0], "a retry of the same version rewrites"
