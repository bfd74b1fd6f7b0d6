"""The change feed on the local stack: a score written through the emulator shows in the feed and history."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import feedparser
import pytest

from publisher.core.identity import history_key

pytestmark = pytest.mark.e2e

# Our own model: the stack is shared by the session's other tests, so GPT-4 stays untouched.
MODEL = "Feed Test Model <&>"
HISTORY = history_key(MODEL)
FRESH_WITHIN = 2.0


def _event(doc: dict[str, Any], old: float, new: float) -> dict[str, Any] | None:
    for event in doc["events"]:
        if (event["model_name"], event["field"], event["old"], event["new"]) == (MODEL, "score", old, new):
            return event
    return None


def _has(path: str, kind: str, stack: Any) -> bool:
    return any(e["model_name"] == MODEL and e["kind"] == kind for e in stack.get_json(path)["events"])


@pytest.fixture
def own_model(local_stack: Any) -> Iterator[Any]:
    """Our model exists for the test and is gone, with its removal published, afterwards."""
    dynamodb = local_stack.client("dynamodb")
    dynamodb.put_item(TableName=local_stack.table, Item={
        "model_name": {"S": MODEL}, "provider": {"S": "Feed Tests"}, "score": {"N": "50.5"},
        "context_window": {"N": "4096"},
    })
    try:
        local_stack.wait_for(lambda: _has("/changes.json", "added", local_stack), timeout=15)
        yield dynamodb
    finally:
        dynamodb.delete_item(TableName=local_stack.table, Key={"model_name": {"S": MODEL}})
        # Leave the shared stack settled: later tests compare snapshots and must not see this land.
        local_stack.wait_for(lambda: _has("/changes.json", "removed", local_stack), timeout=15)
        local_stack.wait_for(lambda: all(m["model_name"] != MODEL
                                         for m in local_stack.get_json("/llms.json")["models"]), timeout=15)


def test_score_update_through_the_emulator_shows_in_feed_history_and_atom(local_stack: Any,
                                                                          own_model: Any) -> None:
    dynamodb = own_model
    written = time.monotonic()
    dynamodb.update_item(TableName=local_stack.table, Key={"model_name": {"S": MODEL}},
                         UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": "61.25"}})
    found: dict[str, Any] = {}

    def visible() -> bool:
        found["feed"] = _event(local_stack.get_json("/changes.json"), 50.5, 61.25)
        found["history"] = _event(local_stack.get_json(f"/{quote(HISTORY)}"), 50.5, 61.25)
        return bool(found["feed"] and found["history"])

    local_stack.wait_for(visible, timeout=10)
    elapsed = time.monotonic() - written
    print(f"feed visible {elapsed:.2f} s after the write")
    assert elapsed < FRESH_WITHIN, f"the change took {elapsed:.2f} s to reach the feed"
    event = found["feed"]
    assert event == found["history"]
    assert event["kind"] == "changed" and event["at"].endswith("Z") and event["version"] >= 2

    status, headers, body = local_stack.get("/changes.xml")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0
    titles = [entry.title for entry in parsed.entries]
    assert f"{MODEL} score 50.5 -> 61.25" in titles

    # The read API serves the same object for the model's name (once its snapshot copy revalidates).
    path = f"/api/llms/{quote(MODEL, safe='')}/history"
    local_stack.wait_for(lambda: event in json.loads(local_stack.get(path)[2]).get("events", []), timeout=15)
