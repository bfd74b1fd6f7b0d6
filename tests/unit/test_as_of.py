"""As-of reads replayed from the log of versions: exact at every instant, strict about instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from publisher.core.documents import log_key
from publisher.publish.changelog import document, entry
from publisher.publish.state import Change
from publisher.read.as_of import parse_instant, split_as_of
from publisher.read.errors import BadRequest
from publisher.read.versions import VersionLog

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _record(name: str, score: float) -> dict[str, Any]:
    return {"model_name": name, "provider": "P", "score": score}


def _log(steps: list[tuple[float, str, dict[str, Any] | None, dict[str, Any] | None]]) -> dict[str, bytes]:
    """Objects of a log whose version i+1 commits at START + seconds with one change."""
    objects = {}
    for version, (seconds, name, old, new) in enumerate(steps, start=1):
        at = (START + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        change = Change(key=name, old=old, new=new, at=at, sequence=str(version), source="stream")
        objects[log_key(version)] = document(entry(version, [change], at))
    return objects


def _versions(objects: dict[str, bytes], now: datetime) -> VersionLog:
    return VersionLog(objects.get, lambda: now)


def _score(log: VersionLog, instant: datetime, current: int, name: str) -> float | None:
    catalogue = log.catalogue(log.version_at(instant, current))
    position = catalogue.lookup(name).name
    return None if position is None else catalogue.models.scores[catalogue.by_name[position]]


def test_a_model_added_changed_twice_and_deleted_within_a_minute_reads_right_between_each_step() -> None:
    m = "M"
    objects = _log([(0, "Base", None, _record("Base", 70)), (10, m, None, _record(m, 50)),
                    (20, m, _record(m, 50), _record(m, 60)), (30, m, _record(m, 60), _record(m, 65)),
                    (40, m, _record(m, 65), None)])
    log = _versions(objects, START + timedelta(minutes=1))
    expected = {5: None, 10: 50, 15: 50, 20: 60, 25: 60, 35: 65, 40: None, 59: None}
    for seconds, score in expected.items():
        assert _score(log, START + timedelta(seconds=seconds), 5, m) == score, seconds
    assert log.version_at(START + timedelta(seconds=19, microseconds=999_000), 5) == 2
    assert log.catalogue(3).version == 3 and log.catalogue(3).count == 2


def test_lookalike_names_keep_their_own_values_at_every_instant() -> None:
    objects = _log([(0, "Twin A", None, _record("Twin A", 10)), (1, "twin-a", None, _record("twin-a", 20)),
                    (2, "TWIN_A", None, _record("TWIN_A", 30)), (3, "twin-a", _record("twin-a", 20), None)])
    log = _versions(objects, START + timedelta(seconds=10))
    at = START + timedelta(seconds=2.5)
    assert [_score(log, at, 4, n) for n in ("Twin A", "twin-a", "TWIN_A")] == [10, 20, 30]
    later = log.catalogue(log.version_at(START + timedelta(seconds=5), 4))
    assert sorted(later.by_name) == ["TWIN_A", "Twin A"]


@pytest.mark.parametrize("raw", ["", "2026-03-01", "2026-03-01T12:00:00", "now", "2026-13-01T00:00:00Z",
                                 "2026-03-01T25:00:00Z", "2026-03-01T12:00:00+2", "x" * 100])
def test_malformed_instants_are_400s_naming_as_of(raw: str) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_instant(raw)
    assert raised.value.parameter == "as_of" and raised.value.code == "invalid_as_of"


@pytest.mark.parametrize("raw", ["0001-01-01T00:00+23:59", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00.5+00:01"])
def test_instants_that_overflow_in_utc_are_400s_naming_as_of_not_500s(raw: str) -> None:
    """Valid local times whose offset moves them outside datetime's range raised OverflowError (a 500)."""
    with pytest.raises(BadRequest) as raised:
        parse_instant(raw)
    assert raised.value.parameter == "as_of" and raised.value.code == "invalid_as_of"
    assert "9999" in raised.value.message


def test_instants_with_offsets_and_fine_fractions_are_the_same_moment() -> None:
    assert parse_instant("2026-03-01T13:00:00.123456789+01:00") == START + timedelta(microseconds=123456)
    assert parse_instant("2026-03-01T12:00Z") == START
    assert parse_instant("2026-03-01t12:00:00z") == START


def test_out_of_range_instants_name_the_available_range() -> None:
    log = _versions(_log([(0, "A", None, _record("A", 1))]), START + timedelta(hours=1))
    for instant, why in ((START - timedelta(milliseconds=1), "before the retained history"),
                         (START + timedelta(hours=2), "in the future")):
        with pytest.raises(BadRequest) as raised:
            log.version_at(instant, 1)
        assert why in raised.value.message
        assert "available range is 2026-03-01T12:00:00.000Z to now (2026-03-01T13:00:00.000Z)" in raised.value.message


def test_as_of_is_taken_once_and_removed_from_the_rest_of_the_query() -> None:
    instant, rest = split_as_of("provider=P&as_of=2026-03-01T12%3A00%3A00Z&limit=5")
    assert instant == START and rest == "provider=P&limit=5"
    with pytest.raises(BadRequest):
        split_as_of("as_of=2026-03-01T12:00:00Z&as_of=2026-03-01T12:00:00Z")


@pytest.mark.parametrize("raw", ["yesterday", "2026-02-30T00:00:00Z"])
def test_a_malformed_instant_names_the_available_range_too(raw: str) -> None:
    log = _versions(_log([(0, "A", None, _record("A", 1))]), START + timedelta(hours=1))
    with pytest.raises(BadRequest) as raised:
        split_as_of(f"as_of={raw}", lambda: log.window(lambda: 1))
    assert raised.value.code == "invalid_as_of"
    assert "available range is 2026-03-01T12:00:00.000Z to now (2026-03-01T13:00:00.000Z)" in raised.value.message


def test_the_range_of_a_malformed_instant_is_a_hint_that_never_turns_the_400_into_another_error() -> None:
    log = _versions(_log([(0, "A", None, _record("A", 1))]), START + timedelta(hours=1))

    def unreadable() -> int:
        raise RuntimeError("S3 is down")

    assert log.window(unreadable) == "the available range cannot be read right now"
    assert log.window(lambda: 0) == "nothing has been published yet, so no instant can be read"


def test_as_of_catalogues_share_one_response_budget() -> None:
    """However many past versions are asked for, their memoised answers stay within one budget the
    size of the current snapshot's: the read function's response memory is bounded by bytes."""
    from publisher.read import as_of
    from publisher.read.catalogue import RESPONSE_CACHE_BYTES

    steps = [(float(i), f"M{i}", None, _record(f"M{i}", i)) for i in range(as_of.CATALOGUES_KEPT + 4)]
    log = _versions(_log(steps), START + timedelta(minutes=5))
    body = b"x" * (256 * 1024)
    kept = []
    for version in range(1, len(steps) + 1):
        catalogue = log.catalogue(version)
        for i in range(40):  # 10 MiB offered to each past version
            catalogue.cached(("list", str(i)), lambda: body)
        kept.append(catalogue)
    held = sum(c.cached_bytes for c in kept[-as_of.CATALOGUES_KEPT:])
    assert 0 < held <= RESPONSE_CACHE_BYTES
