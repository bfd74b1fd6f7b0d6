"""Applying stream changes to the state: order, replays, removals, invalid items, reconcile."""

from __future__ import annotations

from datetime import UTC, datetime

from publisher.publish.state import State, StreamChange, apply_changes, commit, reconcile

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def change(seq: int, key: str, score: float | None, at: str = "2026-01-01T00:00:00Z") -> StreamChange:
    item = None if score is None else {"model_name": key, "provider": "P", "score": score}
    return StreamChange(key, str(seq), "REMOVE" if score is None else "MODIFY", item, at)


def test_replayed_changes_are_skipped() -> None:
    state = State()
    applied, _ = apply_changes(state, [change(1, "a", 10), change(2, "a", 20)])
    assert len(applied) == 2 and state.models["a"]["score"] == 20
    again, _ = apply_changes(state, [change(1, "a", 10), change(2, "a", 20)])
    assert again == [] and state.models["a"]["score"] == 20


def test_an_older_record_never_overwrites_a_newer_one() -> None:
    state = State()
    apply_changes(state, [change(5, "a", 50)])
    applied, _ = apply_changes(state, [change(3, "a", 30)])
    assert applied == [] and state.models["a"]["score"] == 50


def test_remove_then_reinsert() -> None:
    state = State()
    apply_changes(state, [change(1, "a", 10), change(2, "a", None)])
    assert "a" not in state.models and "a" in state.tombstones
    apply_changes(state, [change(3, "a", 30)])
    assert state.models["a"]["score"] == 30 and "a" not in state.tombstones


def test_invalid_update_takes_a_model_out_and_is_reported() -> None:
    state = State()
    apply_changes(state, [change(1, "a", 10)])
    bad = StreamChange("a", "2", "MODIFY", {"model_name": "a", "score": 10}, "2026-01-01T00:00:00Z")
    applied, rejected = apply_changes(state, [bad])
    assert "a" not in state.models
    assert [(r.key, r.reason) for r in rejected] == [("a", "provider is missing")]
    assert applied[0].old is not None and applied[0].new is None


def test_commit_moves_version_forward_only_when_something_changed() -> None:
    state = State()
    commit(state, [], NOW)
    assert state.version == 0
    applied, _ = apply_changes(state, [change(1, "a", 10, at="2026-01-01T10:00:00Z")])
    commit(state, applied, NOW)
    assert state.version == 1 and state.generated_at == "2026-01-01T10:00:00Z"


def test_commit_prunes_tombstones_older_than_stream_retention() -> None:
    state = State()
    applied, _ = apply_changes(state, [change(1, "a", 10, at="2025-12-01T00:00:00Z"),
                                       change(2, "a", None, at="2025-12-01T00:00:01Z")])
    commit(state, applied, NOW)
    assert "a" not in state.tombstones and "a" not in state.sequences


def test_reconcile_reports_only_drift() -> None:
    state = State()
    apply_changes(state, [change(1, "a", 10), change(2, "b", 20)])
    drift, rejected = reconcile(state, [{"model_name": "a", "provider": "P", "score": 10},
                                        {"model_name": "c", "provider": "P", "score": 30},
                                        {"model_name": "bad", "score": 1}], "2026-01-01T00:00:00Z")
    assert sorted((d.key, d.old is None, d.new is None) for d in drift) == [("b", False, True), ("c", True, False)]
    assert [r.key for r in rejected] == ["bad"]
    assert set(state.models) == {"a", "c"}


def test_state_round_trips_through_bytes() -> None:
    state = State()
    applied, _ = apply_changes(state, [change(1, "a", 10)])
    commit(state, applied, NOW)
    assert State.from_bytes(state.to_bytes()) == state
    assert state.to_bytes() == State.from_bytes(state.to_bytes()).to_bytes()


def colliding_names(count: int = 2) -> list[str]:
    """Names with one slug whose keys collide once the hash is cut to one hex digit."""
    from publisher.core import identity

    by_key: dict[str, list[str]] = {}
    for i in range(200):
        name = f"Twin{'_' * (i % 7 + 1)}A{' ' * (i // 7)}"
        by_key.setdefault(identity.key(name), []).append(name)
    return next(names for names in by_key.values() if len(names) >= count)[:count]


def test_a_name_whose_key_would_collide_with_a_published_one_is_refused_not_merged(monkeypatch) -> None:
    from publisher.core import identity

    monkeypatch.setattr(identity, "KEY_HASH_CHARS", 1)
    first, second = colliding_names()
    assert identity.key(first) == identity.key(second) and first != second
    state = State()
    at = "2026-01-01T00:00:00Z"
    applied, rejected = apply_changes(state, [
        StreamChange(first, "1", "INSERT", {"model_name": first, "provider": "P", "score": 1}, at),
        StreamChange(second, "2", "INSERT", {"model_name": second, "provider": "P", "score": 2}, at),
    ])
    assert set(state.models) == {first} and [c.key for c in applied] == [first]
    assert [r.key for r in rejected] == [second] and "shares its key" in rejected[0].reason
    # A rebuild keeps the published name and refuses the newcomer in the same way.
    items = [{"model_name": n, "provider": "P", "score": 1} for n in (second, first)]
    _, refused = reconcile(state, items, "2026-01-02T00:00:00Z")
    assert set(state.models) == {first} and [r.key for r in refused] == [second]


def test_a_state_read_back_keeps_each_record_in_published_field_order() -> None:
    from publisher.core.model import FIELDS
    from publisher.publish.state import State

    record = {"model_name": "M", "provider": "P", "context_window": 8, "score": 5.0, "version": "1",
              "release_date": "2026-01-01", "benchmarks": {"a": 1.0}, "updated_at": "2026-01-01T00:00:00Z"}
    again = State.from_bytes(State(models={"M": record}).to_bytes())
    assert list(again.models["M"]) == [f for f in FIELDS if f in record]


def test_reconcile_keeps_a_value_the_stream_changed_after_the_scan_began() -> None:
    from publisher.publish.state import State, reconcile

    state = State(models={"M": {"model_name": "M", "provider": "P", "score": 77.0}},
                  recent={"M": "2026-05-01T12:00:03Z"})
    drift, _ = reconcile(state, [{"model_name": "M", "provider": "P", "score": 50}], "2026-05-01T12:00:09Z",
                         scan_started="2026-05-01T12:00:05Z")
    assert drift == [] and state.models["M"]["score"] == 77.0
    old = State(models={"M": {"model_name": "M", "provider": "P", "score": 77.0}},
                recent={"M": "2026-05-01T11:00:00Z"})
    drift, _ = reconcile(old, [{"model_name": "M", "provider": "P", "score": 50}], "2026-05-01T12:00:09Z",
                         scan_started="2026-05-01T12:00:05Z")
    assert [c.key for c in drift] == ["M"] and old.models["M"]["score"] == 50.0
