"""The change feed's pure core: events from changes, history merging, the JSON and Atom documents."""

from __future__ import annotations

import json
from typing import Any

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.core.documents import Prior, dumps
from publisher.core.history import merge_history
from publisher.core.history_shards import LINE_HEAD, find_document, line_name, merge_shard, split
from publisher.core.identity import HISTORY_SHARD_PREFIX, history_key, history_shard_key, key
from publisher.publish.changelog import log_key
from publisher.publish.feed import (
    ATOM_TYPE,
    CHANGES_KEY,
    LOG_PENDING_KEY,
    PENDING_KEY,
    ChangeFeed,
    atom_document,
    event_title,
    events_for,
    model_api_url,
)
from publisher.publish.render import JSON_CACHE_CONTROL
from publisher.publish.state import Change, State

GPT4 = {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5}
AT = "2024-05-01T12:00:00Z"
BASE = "https://llm.example.com"


def change(old: dict[str, Any] | None, new: dict[str, Any] | None, sequence: str | None = "100",
           source: str = "stream", key: str = "GPT-4") -> Change:
    return Change(key, old, new, AT, sequence, source)


def test_score_change_gives_one_event_with_old_new_time_version_and_sequence() -> None:
    (event,) = events_for(change(GPT4, {**GPT4, "score": 96.1}), version=7)
    assert event["kind"] == "changed"
    assert (event["field"], event["old"], event["new"]) == ("score", 95.5, 96.1)
    assert (event["at"], event["version"], event["sequence"]) == (AT, 7, "100")
    assert event["model_name"] == "GPT-4" and event["slug"] == key("GPT-4") == "gpt-4--29f11dbc"


def test_each_changed_field_is_its_own_event_and_absent_values_are_null() -> None:
    new = {**GPT4, "provider": "OpenAI Inc", "version": "0613", "release_date": "2023-06-13"}
    del new["context_window"]
    events = events_for(change(GPT4, new), version=1)
    assert [(e["field"], e["old"], e["new"]) for e in events] == [
        ("provider", "OpenAI", "OpenAI Inc"),
        ("context_window", 128000, None),
        ("version", None, "0613"),
        ("release_date", None, "2023-06-13"),
    ]


def test_change_to_untracked_fields_only_gives_no_event() -> None:
    new = {**GPT4, "benchmarks": {"mmlu": 86.4}, "updated_at": "2024-05-01T12:00:00Z"}
    assert events_for(change(GPT4, new), version=3) == []


def test_added_and_removed_carry_the_tracked_fields() -> None:
    (added,) = events_for(change(None, {**GPT4, "benchmarks": {"x": 1.0}}), version=1)
    assert added["kind"] == "added" and added["field"] is None and added["old"] is None
    assert added["new"] == {"provider": "OpenAI", "context_window": 128000, "score": 95.5}
    (removed,) = events_for(change(GPT4, None), version=2)
    assert removed["kind"] == "removed" and removed["new"] is None and removed["old"]["score"] == 95.5


def test_rebuild_drift_is_recorded_as_reconciled() -> None:
    events = events_for(change(GPT4, {**GPT4, "score": 90.0}, sequence=None, source="reconcile"), version=4)
    assert [(e["kind"], e["field"], e["old"], e["new"], e["sequence"]) for e in events] == [
        ("reconciled", "score", 95.5, 90.0, None)
    ]
    (appeared,) = events_for(change(None, GPT4, sequence=None, source="reconcile"), version=4)
    assert appeared["kind"] == "reconciled" and appeared["new"]["provider"] == "OpenAI"


def test_event_ids_are_deterministic_and_distinct_per_version_sequence_and_field() -> None:
    new = {**GPT4, "score": 96.1, "provider": "OpenAI Inc"}
    first = events_for(change(GPT4, new), version=5)
    assert first == events_for(change(GPT4, new), version=5)
    ids = {e["id"] for e in first}
    ids |= {e["id"] for e in events_for(change(GPT4, new, sequence="101"), version=5)}
    ids |= {e["id"] for e in events_for(change(GPT4, new), version=6)}
    assert len(ids) == 6


def test_titles_read_like_a_changelog() -> None:
    (event,) = events_for(change(GPT4, {**GPT4, "score": 96.1}), version=1)
    assert event_title(event) == "GPT-4 score 95.5 -> 96.1"
    (event,) = events_for(change(GPT4, {**GPT4, "context_window": 8192}), version=1)
    assert event_title(event) == "GPT-4 context window 128000 -> 8192"
    (event,) = events_for(change(GPT4, None), version=1)
    assert event_title(event) == "GPT-4 removed"


def test_model_api_url_quotes_the_name() -> None:
    assert model_api_url(BASE, "A/B <x> & y") == f"{BASE}/api/llms/A%2FB%20%3Cx%3E%20%26%20y"


def _events(names: list[str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for version, name in enumerate(names, start=1):
        record = {**GPT4, "model_name": name}
        events += events_for(change(None, record, key=name, sequence=f"{version}0"), version)
        events += events_for(change(record, {**record, "score": 96.0}, key=name, sequence=f"{version}1"),
                             version)
    return events[::-1]


def test_atom_feed_parses_and_has_the_required_elements() -> None:
    events = _events(["GPT-4", "Evil <script>alert(1)</script> & \"co\"", "Ünïcödé 模型"])
    body = atom_document(9, "2024-05-01T12:00:00Z", events, BASE)
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    feed = parsed.feed
    assert feed.id.startswith("urn:uuid:") and feed.title and feed.updated == "2024-05-01T12:00:00Z"
    rels = {(link.rel, link.href) for link in feed.links}
    assert ("self", f"{BASE}/changes.xml") in rels and ("alternate", f"{BASE}/") in rels
    assert len(parsed.entries) == len(events)
    for entry, event in zip(parsed.entries, events, strict=True):
        assert entry.id.startswith("urn:uuid:")
        assert entry.title == event_title(event)
        assert entry.updated == event["at"]
        assert entry.link == model_api_url(BASE, event["model_name"])
        assert entry.summary
    assert len({entry.id for entry in parsed.entries}) == len(events)
    assert any(e.title.startswith('Evil <script>alert(1)</script> & "co" ') for e in parsed.entries)


def test_atom_feed_is_well_formed_xml_with_hostile_names() -> None:
    from xml.etree import ElementTree

    events = _events(["]]> <!-- & ' \" \u2028 \ufffe"])
    root = ElementTree.fromstring(atom_document(1, AT, events, BASE))
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"


def test_empty_feed_is_valid_atom() -> None:
    parsed = feedparser.parse(atom_document(0, "1970-01-01T00:00:00Z", [], ""))
    assert parsed.bozo == 0 and parsed.entries == []


def test_atom_ids_are_stable_across_publishes() -> None:
    events = _events(["GPT-4"])
    first = feedparser.parse(atom_document(1, AT, events, BASE))
    later = feedparser.parse(atom_document(2, "2024-06-01T00:00:00Z", _events(["Other"]) + events, BASE))
    assert [e.id for e in first.entries] == [e.id for e in later.entries][-len(events):]


def test_history_merge_dedupes_by_id_and_orders_newest_first() -> None:
    events = _events(["GPT-4", "GPT-4", "GPT-4"])
    doc = merge_history("GPT-4", None, events[3:], limit=100)
    doc = merge_history("GPT-4", doc, events, limit=100)
    assert doc["count"] == len(events) == 6
    assert doc["events"] == events
    assert (doc["model_name"], doc["slug"], doc["version"]) == ("GPT-4", key("GPT-4"), 3)
    assert doc["$schema"] == "/schemas/history.schema.json"


def test_a_history_keeps_only_its_own_models_events_even_from_a_shared_old_document() -> None:
    # Before names had unique keys, `GPT-4` and `gpt 4` shared history/gpt-4.json.
    events = _events(["GPT-4"] * 5 + ["gpt 4"])
    shared = {"model_name": "GPT-4", "events": events, "model_names": ["GPT-4", "gpt 4"]}
    doc = merge_history("GPT-4", shared, [], limit=3)
    assert {e["model_name"] for e in doc["events"]} == {"GPT-4"}
    assert "model_names" not in doc
    # The newest of GPT-4's survive the bound.
    assert [e["version"] for e in doc["events"]] == [5, 5, 4]
    other = merge_history("gpt 4", None, events, limit=3)
    assert {e["model_name"] for e in other["events"]} == {"gpt 4"} and other["count"] == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 11), max_size=12), st.integers(1, 6))
def test_history_merge_is_order_insensitive_and_idempotent(split: list[int], limit: int) -> None:
    events = _events(["GPT-4", "GPT-4", "gpt 4", "GPT-4", "gpt 4", "GPT-4"])
    parts = [events[i:] for i in split] + [events]
    doc: dict[str, Any] | None = None
    for part in parts:
        doc = merge_history("GPT-4", doc, part, limit)
    once = merge_history("GPT-4", None, events, limit)
    assert doc == once
    assert merge_history("GPT-4", once, events, limit) == once


class NoStore:
    def head(self, key: str) -> None:
        return None

    def get_bytes(self, key: str) -> None:
        return None

    def get_with_prior(self, key: str) -> tuple[None, Prior]:
        return None, Prior(None, -1)


def test_hook_keeps_the_latest_n_events_newest_first_for_the_next_version() -> None:
    feed = ChangeFeed(NoStore(), changes_limit=3)  # type: ignore[arg-type]
    state = State(version=4)
    feed.record(state, [change(GPT4, {**GPT4, "score": 96.0, "provider": "X"}, sequence="1"),
                        change(GPT4, {**GPT4, "score": 97.0}, sequence="2")])
    assert [(e["version"], e["sequence"], e["field"]) for e in state.extra[CHANGES_KEY]] == [
        (5, "2", "score"), (5, "1", "score"), (5, "1", "provider")
    ]
    state.version = 5
    feed.record(state, [change(None, {**GPT4, "model_name": "New"}, key="New", sequence="3")])
    assert [e["model_name"] for e in state.extra[CHANGES_KEY]] == ["New", "GPT-4", "GPT-4"]
    # Nothing has landed (no llms.json), so every event still waits for its history write.
    assert len(state.extra[PENDING_KEY]) == 4


def test_a_publish_without_events_records_no_event_but_logs_its_version_whole() -> None:
    feed = ChangeFeed(NoStore())  # type: ignore[arg-type]
    state = State(version=2)
    feed.record(state, [])
    assert state.extra == {}
    touched = {**GPT4, "benchmarks": {"mmlu": 86.4}, "updated_at": AT}
    feed.record(state, [change(GPT4, touched)])
    assert set(state.extra) == {LOG_PENDING_KEY}
    (logged,) = state.extra[LOG_PENDING_KEY]
    assert (logged["version"], logged["count"]) == (3, 1)
    # The log keeps what the feed leaves out: the whole records before and after.
    assert (logged["changes"][0]["old"], logged["changes"][0]["new"]) == (GPT4, touched)


def test_rendered_objects_are_deterministic_and_typed() -> None:
    feed = ChangeFeed(NoStore(), base_url=BASE)  # type: ignore[arg-type]
    state = State(version=0)
    feed.record(state, [change(None, GPT4)])
    state.version, state.generated_at = 1, AT
    first = feed.render(state, [], NoStore())  # type: ignore[arg-type]
    again = feed.render(State.from_bytes(state.to_bytes()), [], NoStore())  # type: ignore[arg-type]
    assert [(o.key, o.body) for o in first] == [(o.key, o.body) for o in again]
    by_key = {o.key: o for o in first}
    shard = history_shard_key("GPT-4")
    assert set(by_key) == {"changes.json", "changes.xml", log_key(1), shard}
    assert by_key["changes.xml"].content_type == ATOM_TYPE
    assert by_key["changes.json"].cache_control == by_key["changes.xml"].cache_control == JSON_CACHE_CONTROL
    # The shard and the log are private (internal/, never served by the CDN) and never cached.
    assert shard.startswith(HISTORY_SHARD_PREFIX) and log_key(1).startswith("internal/")
    assert by_key[shard].cache_control == by_key[log_key(1)].cache_control == "no-store"
    doc = json.loads(by_key["changes.json"].body)
    assert (doc["schema_version"], doc["version"], doc["generated_at"], doc["count"]) == (1, 1, AT, 1)
    assert json.loads(find_document(by_key[shard].body, "GPT-4") or b"{}")["events"] == doc["events"]
    logged = json.loads(by_key[log_key(1)].body)
    assert (logged["version"], logged["changes"][0]["old"], logged["changes"][0]["new"]) == (1, None, GPT4)


@pytest.mark.parametrize(("name", "expected"), [
    ("gpt-4", "history/gpt-4.json"),
    ("GPT-4", "history/gpt-4--29f11dbc.json"),
    ("a&b<c>", f"history/a-b-c--{key('a&b<c>')[-8:]}.json"),
])
def test_history_object_is_named_by_the_models_key(name: str, expected: str) -> None:
    assert history_key(name) == expected


def test_names_that_slug_alike_get_separate_histories() -> None:
    feed = ChangeFeed(NoStore())  # type: ignore[arg-type]
    twins = ["Twin A", "twin-a", "TWIN_A", "twin  a", "Twin\u00a0A"]
    events = [e for i, name in enumerate(twins)
              for e in events_for(change(None, {**GPT4, "model_name": name}, key=name, sequence=str(i + 1)), 1)]
    shards = {o.key: o.body for o in feed.history_objects(events, NoStore())}  # type: ignore[arg-type]
    assert set(shards) == {history_shard_key(name) for name in twins}
    for name in twins:
        doc = json.loads(find_document(shards[history_shard_key(name)], name) or b"{}")
        assert doc["model_name"] == name and doc["slug"] == key(name)
        assert [e["model_name"] for e in doc["events"]] == [name]


def test_a_model_is_found_by_its_exact_name_only_whatever_its_characters() -> None:
    names = ['quote " and \\', "GPT-4", "gpt-4", 'x,"slug":"y', "line\u2028sep", "\U0001f916 bot"]
    lines = {n: dumps(merge_history(n, None, events_for(change(None, {**GPT4, "model_name": n}, key=n), 1), 5))
             for n in names}
    shard = b"".join(lines[n] + b"\n" for n in sorted(lines))
    for name in names:
        assert line_name(lines[name]) == name and lines[name].startswith(LINE_HEAD)
        assert find_document(shard, name) == lines[name]
    assert find_document(shard, "GPT-4 ") is None and find_document(None, "GPT-4") is None


def test_merging_into_a_shard_keeps_other_lines_byte_for_byte_and_drops_foreign_ones() -> None:
    key_of = history_shard_key("GPT-4")
    other = next(n for n in (f"m{i}" for i in range(1000)) if history_shard_key(n) == key_of)
    stranger = next(n for n in (f"s{i}" for i in range(1000)) if history_shard_key(n) != key_of)
    line = dumps(merge_history(other, None, events_for(change(None, {**GPT4, "model_name": other}, key=other), 1), 5))
    foreign = dumps(merge_history(stranger, None, [], 5))
    shard = line + b"\n" + foreign + b"\n" + b"not json\n"
    fresh = events_for(change(None, GPT4), 2)
    merged = merge_shard(key_of, {"GPT-4": fresh}, 5, shard)
    assert set(split(key_of, merged)) == {other, "GPT-4"}
    assert find_document(merged, other) == line
    assert merge_shard(key_of, {"GPT-4": fresh}, 5, merged) == merged  # merging is idempotent
