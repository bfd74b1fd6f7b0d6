"""GET /api/changes over a fake source: oldest first, paged, exact records, strict parameters, 410 past retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from publisher.core.documents import log_key
from publisher.publish.changelog import document, entry
from publisher.publish.state import Change
from publisher.read import openapi
from publisher.read.api import ReadApi
from publisher.read.http import Request
from tests.unit.test_read_api import FakeSource, s3_catalogue

START = datetime(2026, 1, 1, tzinfo=UTC)


def _rec(name: str, score: float, **more: Any) -> dict[str, Any]:
    return {"model_name": name, "provider": "OpenAI", "score": score, **more}


def _logs(steps: list[list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]]) -> dict[str, bytes]:
    objects = {}
    for version, changes in enumerate(steps, start=1):
        at = (START + timedelta(seconds=version)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        applied = [Change(name, old, new, at, str(version * 10 + i), "stream")
                   for i, (name, old, new) in enumerate(changes)]
        objects[log_key(version)] = document(entry(version, applied, at))
    return objects


STEPS = [
    [("A", None, _rec("A", 50)), ("B", None, _rec("B", 60))],
    [("A", _rec("A", 50), _rec("A", 55))],
    [("B", _rec("B", 60), _rec("B", 60, benchmarks={"mmlu": 80.0}))],  # only an untracked field
    [("A", _rec("A", 55), None), ("C", None, _rec("C", 70))],
]


def _api(objects: dict[str, bytes], version: int = 4, retention_days: int | None = None) -> ReadApi:
    source = FakeSource(s3_catalogue(version), objects)
    return ReadApi(source, openapi.document_bytes, retention_days)  # type: ignore[arg-type]


def _get(api: ReadApi, query: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = api.handle(Request("GET", "/api/changes", query))
    return response.status, json.loads(response.body or b"null"), response.headers


def test_since_a_version_answers_each_later_change_oldest_first_with_whole_records() -> None:
    status, body, headers = _get(_api(_logs(STEPS)), "since=1")
    assert status == 200 and headers["X-Snapshot-Version"] == "4" and body["version"] == 4
    assert [(c["version"], c["model_name"]) for c in body["changes"]] == [(2, "A"), (3, "B"), (4, "A"), (4, "C")]
    assert body["changes"][1]["record"]["benchmarks"] == {"mmlu": 80.0} and body["changes"][1]["events"] == []
    assert body["changes"][2]["record"] is None and body["changes"][2]["events"][0]["kind"] == "removed"
    assert body["changes"][0]["events"][0] | {"id": None} == {
        "id": None, "version": 2, "at": "2026-01-01T00:00:02.000Z", "kind": "changed", "model_name": "A",
        "slug": "a--559aead0", "field": "score", "old": 50, "new": 55, "sequence": "20"}
    assert body["count"] == 4 and body["next"] is None and body["since"] == 1


def test_applying_the_changes_to_an_old_copy_gives_the_current_models() -> None:
    api = _api(_logs(STEPS))
    held = {"A": _rec("A", 50), "B": _rec("B", 60)}  # llms.json at version 1
    query = "since=1&limit=1"
    pages = 0
    while True:
        status, body, _ = _get(api, query)
        assert status == 200 and body["count"] <= 1
        pages += 1
        for change in body["changes"]:
            if change["record"] is None:
                held.pop(change["model_name"])
            else:
                held[change["model_name"]] = change["record"]
        if body["next"] is None:
            break
        query = f"since=1&limit=1&cursor={body['next']}"
    assert pages == 4
    assert held == {"B": _rec("B", 60, benchmarks={"mmlu": 80.0}), "C": _rec("C", 70)}


@pytest.mark.parametrize("query", ["since=4", "since=5", "since=999999999999"])
def test_since_at_or_past_the_current_version_is_an_empty_list(query: str) -> None:
    status, body, _ = _get(_api(_logs(STEPS)), query)
    assert status == 200 and body["changes"] == [] and body["next"] is None and body["version"] == 4


@pytest.mark.parametrize("query, parameter", [
    ("since=-1", "since"), ("since=abc", "since"), ("", "since"), ("since=1.5", "since"),
    ("since=1&since=2", "since"), ("since=1&limit=0", "limit"), ("since=1&limit=1001", "limit"),
    ("since=2&cursor=2.0", "cursor"), ("since=1&cursor=x", "cursor"), ("since=1&when=2", "when"),
])
def test_a_bad_parameter_is_a_400_naming_it(query: str, parameter: str) -> None:
    status, body, _ = _get(_api(_logs(STEPS)), query)
    assert status == 400 and body["error"]["parameter"] == parameter, body


def test_an_unchanged_answer_is_a_304_with_its_etag() -> None:
    api = _api(_logs(STEPS))
    first = api.handle(Request("GET", "/api/changes", "since=2"))
    again = api.handle(Request("GET", "/api/changes", "since=2", {"if-none-match": first.headers["ETag"]}))
    assert first.status == 200 and again.status == 304 and again.headers["ETag"] == first.headers["ETag"]
    assert first.headers["Access-Control-Allow-Origin"] == "*" and "s-maxage" in first.headers["Cache-Control"]


def test_a_since_before_the_retained_log_is_a_410_that_says_to_reload() -> None:
    from publisher.core.replay import (
        CHECKPOINT_INDEX_KEY,
        Indexed,
        checkpoint_bytes,
        checkpoint_key,
        index_document,
        parse_time,
    )

    objects = _logs(STEPS)
    # Version 1 committed long ago (expired); a checkpoint at version 3 is within the retention.
    old = json.loads(objects[log_key(1)])
    objects[log_key(1)] = json.dumps({**old, "committed_at": "2020-01-01T00:00:00.000Z"}).encode()
    at = json.loads(objects[log_key(3)])["committed_at"]
    objects[checkpoint_key(3)] = checkpoint_bytes(3, at, {"B": _rec("B", 60, benchmarks={"mmlu": 80.0})})
    objects[CHECKPOINT_INDEX_KEY] = index_document([Indexed(3, parse_time(at), at)], "2020-01-01T00:00:00.000Z")
    api = _api(objects, retention_days=400)
    status, body, _ = _get(api, "since=1")
    assert status == 410 and body["error"]["parameter"] == "since" and "llms.json" in body["error"]["message"]
    status, body, _ = _get(api, "since=3")
    assert status == 200 and [c["model_name"] for c in body["changes"]] == ["A", "C"]


def test_an_as_of_answer_of_a_version_another_followed_is_cached_long_and_the_newest_is_not() -> None:
    from publisher.core.config import API_CACHE_CONTROL, AS_OF_SETTLED_CACHE_CONTROL

    api = _api(_logs(STEPS))
    settled = api.handle(Request("GET", "/api/llms", "as_of=2026-01-01T00:00:02.500Z"))
    assert settled.status == 200 and settled.headers["X-Snapshot-Version"] == "2"
    assert settled.headers["Cache-Control"] == AS_OF_SETTLED_CACHE_CONTROL
    model = api.handle(Request("GET", "/api/llms/A", "as_of=2026-01-01T00:00:02.500Z"))
    assert model.status == 200 and model.headers["Cache-Control"] == AS_OF_SETTLED_CACHE_CONTROL
    # The current version may still be followed by one committed at or before the instant: short.
    newest = api.handle(Request("GET", "/api/llms", "as_of=2026-01-01T00:00:30Z"))
    assert newest.headers["X-Snapshot-Version"] == "4" and newest.headers["Cache-Control"] == API_CACHE_CONTROL
