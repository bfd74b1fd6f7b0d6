"""The change feed through the real publisher Lambda handler, against moto."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import feedparser
import pytest

from publisher.core import identity
from publisher.core.ddb import serialize
from publisher.core.identity import history_shard_key
from publisher.publish.feed import ATOM_TYPE
from publisher.publish.render import JSON_CACHE_CONTROL
from tests.conftest import TEST_BUCKET, load_event, read_history

BASE = "https://llm.example.com"
GPT4_SHARD = history_shard_key("GPT-4")
GPT4 = {"model_name": "GPT-4", "provider": "OpenAI", "context_window": Decimal(128000),
        "score": Decimal("95.5")}


@pytest.fixture
def handler(table: str, bucket: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from publisher.core.config import ENV_PUBLIC_BASE_URL
    from publisher.publish import handler as publish

    monkeypatch.setenv(ENV_PUBLIC_BASE_URL, BASE)
    publish.reset()
    return lambda event: publish.handler(event, lambda_context)


def record(name: str, key: str, sequence: int, new: dict[str, Any] | None = None,
           old: dict[str, Any] | None = None, at: float = 1714564800) -> dict[str, Any]:
    body: dict[str, Any] = {"ApproximateCreationDateTime": at, "Keys": {"model_name": {"S": key}},
                            "SequenceNumber": str(sequence), "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new is not None:
        body["NewImage"] = serialize(new)["M"]
    if old is not None:
        body["OldImage"] = serialize(old)["M"]
    return {"eventID": str(sequence), "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body}


def get(key: str) -> dict[str, Any]:
    from publisher.core import aws

    return aws.client("s3").get_object(Bucket=TEST_BUCKET, Key=key)


def get_json(key: str) -> Any:
    return json.loads(get(key)["Body"].read())


def test_modify_of_gpt4_score_publishes_a_score_event_with_old_and_new(handler: Any) -> None:
    handler(load_event("feed_insert_gpt4"))
    response = handler(load_event("feed_modify_gpt4_score"))
    assert response == {"batchItemFailures": []}

    feed = get_json("changes.json")
    assert (feed["schema_version"], feed["version"], feed["count"]) == (1, 2, 2)
    latest, first = feed["events"]
    assert (latest["kind"], latest["field"], latest["old"], latest["new"]) == ("changed", "score", 95.5, 96.1)
    assert latest["at"] == "2024-05-01T13:00:00Z" and latest["version"] == 2
    assert latest["sequence"] == "100000000000000000002"
    assert first["kind"] == "added" and first["new"] == {"provider": "OpenAI", "context_window": 128000,
                                                         "score": 95.5}

    history = read_history("GPT-4")
    assert (history["model_name"], history["slug"], history["version"]) == ("GPT-4", identity.key("GPT-4"), 2)
    assert history["events"] == feed["events"]

    atom = get("changes.xml")
    assert atom["ContentType"] == ATOM_TYPE and atom["CacheControl"] == JSON_CACHE_CONTROL
    parsed = feedparser.parse(atom["Body"].read())
    assert parsed.bozo == 0
    assert parsed.entries[0].title == "GPT-4 score 95.5 -> 96.1"
    assert parsed.entries[0].link == f"{BASE}/api/llms/GPT-4"
    assert get("changes.json")["CacheControl"] == JSON_CACHE_CONTROL
    assert get(GPT4_SHARD)["CacheControl"] == "no-store"  # private: served by the read API


def test_replayed_batch_adds_no_event(handler: Any) -> None:
    handler(load_event("feed_insert_gpt4"))
    handler(load_event("feed_modify_gpt4_score"))
    before = {key: get(key)["Body"].read() for key in ("changes.json", "changes.xml", GPT4_SHARD)}
    handler(load_event("feed_modify_gpt4_score"))
    handler(load_event("feed_insert_gpt4"))
    assert {key: get(key)["Body"].read() for key in before} == before


def test_write_that_changes_nothing_adds_no_event(handler: Any) -> None:
    handler({"Records": [record("INSERT", "GPT-4", 1, GPT4)]})
    handler({"Records": [record("MODIFY", "GPT-4", 2, GPT4, GPT4),
                         record("MODIFY", "GPT-4", 3, {**GPT4, "updated_at": "2024-05-01T12:00:00Z"}, GPT4)]})
    assert [e["kind"] for e in get_json("changes.json")["events"]] == ["added"]


def test_every_field_and_removal_is_an_event_in_order(handler: Any) -> None:
    handler({"Records": [
        record("INSERT", "GPT-4", 1, GPT4),
        record("MODIFY", "GPT-4", 2, {**GPT4, "version": "0613", "release_date": "2023-06-13"}, GPT4,
               at=1714564900),
        record("REMOVE", "GPT-4", 3, None, GPT4, at=1714565000),
    ]})
    events = get_json("changes.json")["events"]
    assert [(e["kind"], e["field"]) for e in events] == [
        ("removed", None), ("changed", "release_date"), ("changed", "version"), ("added", None)
    ]
    assert [e["at"] for e in events] == ["2024-05-01T12:03:20Z", "2024-05-01T12:01:40Z",
                                         "2024-05-01T12:01:40Z", "2024-05-01T12:00:00Z"]


def test_rebuild_after_drift_records_reconciled_events_only_for_the_drift(handler: Any) -> None:
    from publisher.core import aws

    dynamodb = aws.client("dynamodb")
    handler(load_event("feed_insert_gpt4"))
    # Writes whose stream records never reached the publisher (e.g. parked in the DLQ).
    dynamodb.put_item(TableName="llm_scores", Item=serialize({**GPT4, "score": Decimal("97")})["M"])
    dynamodb.put_item(TableName="llm_scores", Item=serialize(
        {"model_name": "Drifted In", "provider": "Meta", "score": Decimal("80")})["M"])

    result = handler({"action": "rebuild", "reason": "test"})
    assert result["drift"] == 2
    events = get_json("changes.json")["events"]
    reconciled = [(e["model_name"], e["field"], e["old"], e["new"])
                  for e in events if e["kind"] == "reconciled"]
    assert sorted(reconciled, key=str) == sorted([
        ("GPT-4", "score", 95.5, 97.0),
        ("Drifted In", None, None, {"provider": "Meta", "score": 80.0}),
    ], key=str)
    assert all(e["sequence"] is None and e["version"] == 2 for e in events if e["kind"] == "reconciled")
    assert read_history("Drifted In")["events"][0]["kind"] == "reconciled"

    handler({"action": "rebuild", "reason": "test"})
    assert get_json("changes.json")["events"] == events


def test_history_heals_when_its_write_failed_and_another_batch_went_first(
    handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.publish.store import SiteStore, StoreError

    handler(load_event("feed_insert_gpt4"))
    real = SiteStore._put

    def flaky(self: SiteStore, obj: Any, version: int, attempts: int = 5) -> tuple[bool, int, str | None]:
        if obj.key == GPT4_SHARD:
            raise StoreError("injected")
        return real(self, obj, version, attempts)

    monkeypatch.setattr(SiteStore, "_put", flaky)
    failed = handler(load_event("feed_modify_gpt4_score"))
    assert len(failed["batchItemFailures"]) == 1
    monkeypatch.setattr(SiteStore, "_put", real)

    # Another shard's batch commits the next version before the failed batch is retried...
    handler({"Records": [record("INSERT", "Claude 3 Opus", 5, {"model_name": "Claude 3 Opus",
                                                                  "provider": "Anthropic", "score": 96})]})
    # ...so the retry finds nothing to apply and a current site: the next version healed the history.
    assert handler(load_event("feed_modify_gpt4_score")) == {"batchItemFailures": []}
    history = read_history("GPT-4")
    assert [(e["kind"], e["field"]) for e in history["events"]] == [("changed", "score"), ("added", None)]


def test_changes_limit_bounds_the_feed_newest_first(handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.core.config import ENV_CHANGES_LIMIT
    from publisher.publish import handler as publish

    monkeypatch.setenv(ENV_CHANGES_LIMIT, "3")
    publish.reset()
    records = [record("INSERT", "GPT-4", 1, GPT4)]
    records += [record("MODIFY", "GPT-4", n, {**GPT4, "score": Decimal(90 + n)}, GPT4) for n in range(2, 7)]
    handler({"Records": records})
    feed = get_json("changes.json")
    assert [e["new"] for e in feed["events"]] == [96.0, 95.0, 94.0]
    # The history keeps every event (HISTORY_LIMIT, 500 by default).
    assert read_history("GPT-4")["count"] == 6


def test_publisher_links_the_feed_on_the_page(handler: Any) -> None:
    from publisher.publish import handler as publish

    assert publish.publisher().links["changes"] == "/changes.xml"
    handler(load_event("feed_insert_gpt4"))
    assert b'href="/changes.xml"' in get("index.html")["Body"].read()
