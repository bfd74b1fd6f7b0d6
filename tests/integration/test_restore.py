"""Restore against moto: version N's catalogue published again as a new version, from the version log."""

from __future__ import annotations

import json
from typing import Any

import pytest

from publisher.core import aws
from publisher.core.documents import VERSION_META, log_key
from publisher.core.identity import provider_key
from publisher.core.replay import apply
from publisher.publish import handler as publish
from publisher.publish.restore import RestoreError, restore
from publisher.publish.stream import parse_record
from tests.conftest import TEST_BUCKET, load_event, read_site_json, stream_record

A = {"model_name": "Alpha", "provider": "OpenAI", "score": 90.0, "context_window": 8192}
B = {"model_name": "Beta", "provider": "Anthropic", "score": 80.0}
C = {"model_name": "Gamma", "provider": "NewCo", "score": 70.0}  # its provider is born at version 2
D = {"model_name": "Delta", "provider": "Later Labs", "score": 60.0}


class Site:
    """Publishes stream batches through the handler and keeps what each version's site said."""

    def __init__(self, context: Any) -> None:
        self.context, self.sequence, self.docs = context, 0, {}

    def write(self, *changes: tuple[str, dict[str, Any] | str]) -> int:
        records = []
        for event, item in changes:
            self.sequence += 1
            if isinstance(item, str):
                records.append(stream_record("REMOVE", self.sequence, item))
            else:
                records.append(stream_record(event, self.sequence, item["model_name"], new=item))
        assert publish.handler({"Records": records}, self.context) == {"batchItemFailures": []}
        doc = read_site_json("llms.json")
        self.docs[doc["version"]] = doc
        return int(doc["version"])


def public_keys() -> dict[str, str]:
    s3 = aws.client("s3")
    keys = {o["Key"]: o["ETag"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET)
            for o in page.get("Contents", [])}
    return {k: v for k, v in keys.items() if not k.startswith("internal/")}


def providers() -> set[str]:
    return {k for k in public_keys() if k.startswith("providers/")}


def object_versions() -> int:
    pages = aws.client("s3").get_paginator("list_object_versions").paginate(Bucket=TEST_BUCKET)
    return sum(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) for p in pages)


def logged(version: int) -> dict[str, Any]:
    return json.loads(aws.client("s3").get_object(Bucket=TEST_BUCKET, Key=log_key(version))["Body"].read())


@pytest.fixture
def site(bucket: str, lambda_context: Any) -> Site:
    return Site(lambda_context)


def test_restore_publishes_version_n_as_a_new_version_and_removes_what_n_lacked(site: Site) -> None:
    first = site.write(("INSERT", A), ("INSERT", B))
    site.write(("INSERT", C))
    bad = site.write(("MODIFY", {**A, "score": 1.0}))
    assert provider_key("NewCo") in providers()

    report = restore(publish.publisher(), first)

    assert (report.from_version, report.to_version) == (bad, bad + 1)
    doc = read_site_json("llms.json")
    assert doc["version"] == bad + 1
    assert doc["models"] == site.docs[first]["models"]
    assert read_site_json("llms") == site.docs[first]["models"]
    assert providers() == {provider_key("OpenAI"), provider_key("Anthropic")}
    assert report.deleted == [provider_key("NewCo")]
    assert "llms.json" in report.written and sorted(report.removed) == ["Gamma"] and report.changed == ["Alpha"]
    # The restore is a version of the log like any other, so the log still replays to every version.
    entry = logged(bad + 1)
    assert {c["source"] for c in entry["changes"]} == {"restore"}
    replayed: dict = {}
    for v in range(1, bad + 2):
        apply(replayed, logged(v)["changes"])
    assert sorted(replayed.values(), key=lambda r: r["model_name"]) == sorted(
        doc["models"], key=lambda r: r["model_name"])
    # Histories record the model changed back, at the restore's version.
    changes = read_site_json("changes.json")
    assert any(e["model_name"] == "Alpha" and e["version"] == bad + 1 and e["new"] == 90.0
               for e in changes["events"])


def test_restore_after_restores_puts_back_exactly_the_version_asked_for(site: Site) -> None:
    a = site.write(("INSERT", A), ("INSERT", B))
    b = site.write(("INSERT", C), ("MODIFY", {**B, "score": 85.0}))
    site.write(("MODIFY", {**A, "score": 1.0}))
    restore(publish.publisher(), a)
    site.write(("INSERT", D))  # published more after the first restore (a resumed trigger)
    to_b = restore(publish.publisher(), b)
    doc = read_site_json("llms.json")
    assert doc["models"] == site.docs[b]["models"] and doc["version"] == to_b.to_version
    assert providers() == {provider_key("OpenAI"), provider_key("Anthropic"), provider_key("NewCo")}
    assert read_site_json(provider_key("NewCo"))["models"] == [C]
    # Back to a once more: the restore of a restore's version gives a's content too.
    restore(publish.publisher(), a)
    assert read_site_json("llms.json")["models"] == site.docs[a]["models"]
    assert provider_key("NewCo") not in providers() and provider_key("Later Labs") not in providers()


def test_a_second_restore_to_the_same_version_writes_nothing(site: Site) -> None:
    first = site.write(("INSERT", A), ("INSERT", B))
    site.write(("INSERT", C))
    restore(publish.publisher(), first)
    before, count = public_keys(), object_versions()

    again = restore(publish.publisher(), first)

    assert again.nothing_to_do and again.from_version == again.to_version
    assert public_keys() == before and object_versions() == count


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(site: Site) -> None:
    first = site.write(("INSERT", A), ("INSERT", B))
    last = site.write(("INSERT", C))
    count = object_versions()

    plan = restore(publish.publisher(), first, dry_run=True)

    assert object_versions() == count and read_site_json("llms.json")["version"] == last
    assert (plan.to_version, plan.removed, plan.deleted) == (last + 1, ["Gamma"], [provider_key("NewCo")])
    assert {"llms.json", provider_key("OpenAI"), provider_key("Anthropic")} <= set(plan.written)
    report = restore(publish.publisher(), first)
    assert set(plan.written) <= set(report.written) and plan.deleted == report.deleted


def test_a_leftover_provider_document_is_removed_unless_a_newer_publish_owns_it(site: Site) -> None:
    first = site.write(("INSERT", A), ("INSERT", B))
    s3 = aws.client("s3")
    # A provider file a failed publish left behind (class 1 of issue 20), and one of a newer version.
    s3.put_object(Bucket=TEST_BUCKET, Key="providers/ghost.json", Body=b"{}", Metadata={VERSION_META: "1"})
    s3.put_object(Bucket=TEST_BUCKET, Key="providers/future.json", Body=b"{}", Metadata={VERSION_META: "99"})
    report = restore(publish.publisher(), first)
    assert report.deleted == ["providers/ghost.json"]
    assert "providers/future.json" in providers()


def test_a_version_outside_the_log_or_a_gap_in_it_is_refused_before_any_write(site: Site) -> None:
    site.write(("INSERT", A))
    last = site.write(("INSERT", B))
    with pytest.raises(RestoreError, match="never published"):
        restore(publish.publisher(), last + 1)
    aws.client("s3").delete_object(Bucket=TEST_BUCKET, Key=log_key(1))
    count = object_versions()
    with pytest.raises(RestoreError, match="no entry for version 1"):
        restore(publish.publisher(), last)
    assert object_versions() == count


def test_the_handler_takes_a_restore_event_and_answers_its_report(site: Site, lambda_context: Any) -> None:
    first = site.write(("INSERT", A))
    site.write(("INSERT", C))
    event = load_event("restore")  # what `restore --function` invokes the deployed publisher with
    assert event["version"] == first
    answer = publish.handler(event, lambda_context)
    assert answer["restored_version"] == first and answer["keys_removed"] == [provider_key("NewCo")]
    assert answer["models_removed"] == {"count": 1, "names": ["Gamma"]}
    assert publish.handler({"action": "restore", "version": 99}, lambda_context)["error"].startswith("version 99")
    with pytest.raises(ValueError, match="version"):
        publish.handler({"action": "restore", "version": "1"}, lambda_context)


def test_a_publish_committed_under_the_restore_loses_to_it_through_the_conditional_write(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invocation in flight when publishing paused commits between the restore's read and its state write:
    the restore's If-Match fails, it retries on the newer state, and still publishes exactly version N."""
    first = site.write(("INSERT", A), ("INSERT", B))
    last = site.write(("INSERT", C))
    pub, racer = publish.publisher(), publish.build_publisher(publish.config())
    real_save = pub.store.save_state

    def save_after_a_racer(state: Any, etag: str | None) -> str:
        monkeypatch.setattr(pub.store, "save_state", real_save)
        racer.apply_stream([parse_record(stream_record("INSERT", 999, D["model_name"], new=D))])
        return real_save(state, etag)

    monkeypatch.setattr(pub.store, "save_state", save_after_a_racer)
    report = restore(pub, first)
    assert report.to_version == last + 2  # the racer's version, then the restore's
    assert read_site_json("llms.json")["models"] == site.docs[first]["models"]
    assert provider_key("Later Labs") not in providers() and provider_key("NewCo") not in providers()


def test_the_table_plan_lists_what_the_table_must_hold_to_publish_version_n(site: Site, table: str) -> None:
    from publisher.ops import table_plan
    from publisher.ops.seed import seed

    first = site.write(("INSERT", A), ("INSERT", B))
    site.write(("INSERT", C), ("MODIFY", {**A, "score": 1.0}))
    ddb = aws.client("dynamodb")
    seed(ddb, "llm_scores", [{**A, "score": 1.0}, B, C])  # the table as the bad publishes left it
    ddb.put_item(TableName="llm_scores", Item={"model_name": {"S": "Broken"}, "score": {"N": "5"}})  # invalid
    found = table_plan.plan(aws.client("s3"), ddb, TEST_BUCKET, "llm_scores", first)
    assert found.put == [site.docs[first]["models"][0]] and found.put[0]["model_name"] == "Alpha"
    assert found.delete == ["Gamma"]  # the invalid item was never published: left alone
