"""What a game-day scenario counts (publisher/local/gameday_metrics.py): staleness, versions going
backward, ratios per kind of path, and the alarms its data would raise."""

from __future__ import annotations

from publisher.local.gameday_load import API, STATIC, Path, Read
from publisher.local.gameday_metrics import Holdings, Signals, alarms, measure_paths, staleness, summarise

PATHS = [Path("list", "/llms.json", STATIC), Path("dated snapshot", "/snapshots/d.json", STATIC, False),
         Path("api query", "/api/llms", API)]


def test_a_version_never_seen_in_a_list_holds_what_the_newest_older_one_held() -> None:
    holdings = Holdings({3: 2, 5: 4, 4: 1})
    assert [holdings.of(v) for v in (1, 3, 4, 5, 9)] == [0, 2, 2, 4, 4]


def test_staleness_counts_from_the_first_acknowledged_write_the_version_lacks() -> None:
    acked = [10.0, 11.0, 12.0]
    holdings = Holdings({7: 1})
    assert staleness(Read(15.0, 0, "list", 200, 7), holdings, acked) == 4.0  # lacks write 2, acked at 11
    assert staleness(Read(10.5, 0, "list", 200, 7), holdings, acked) == 0.0  # write 2 not acked yet
    assert staleness(Read(15.0, 0, "list", 502, 7), holdings, acked) == 0.0  # no document, no staleness


def test_backward_is_per_client_and_path_and_the_dated_snapshot_is_not_stale_by_design() -> None:
    reads = [Read(1.0, 0, "list", 200, 5), Read(2.0, 1, "list", 200, 4), Read(3.0, 0, "list", 200, 4),
             Read(4.0, 0, "dated snapshot", 200, 1), Read(5.0, 0, "api query", 503, None)]
    figures = {f.label: f for f in measure_paths(reads, PATHS, {5: 2}, [0.0, 0.5, 0.9], (4.5, 6.0))}
    assert figures["list"].versions_backward == 1  # client 0 saw 5 then 4; client 1 only ever saw 4
    assert figures["list"].max_versions_behind == 1
    assert figures["dated snapshot"].max_staleness_s == 0.0
    assert (figures["api query"].fault_ok, figures["api query"].fault_attempted) == (0, 1)


def test_a_scenario_row_has_the_json_keys_and_names_the_targets_missed() -> None:
    reads = [Read(float(i), 0, "list", 200, 1) for i in range(999)] + [Read(1000.0, 0, "list", 502, None)]
    reads += [Read(1001.0, 0, "api query", 429, None)]
    figures = measure_paths(reads, PATHS, {1: 0}, [], (0.0, 2000.0))
    row = summarise("s", figures, acked=3, lost=1, recovery_s=None, signals=Signals(dlq_max=2), notes=[])
    assert row["static_read_ok_ratio"] == 0.999 and row["api_read_ok_ratio"] == 0.0
    assert row["targets"] == {"static_reads": True, "versions_never_backward": True, "no_write_lost": False,
                              "recovery_within_slo": False}
    assert {"api-availability-fast-burn", "read-throttles", "publisher-dlq-messages",
            "canary-checks"} <= set(row["alarms"])


def test_no_alarm_without_failures() -> None:
    figures = measure_paths([Read(1.0, 0, "list", 200, 1)], PATHS, {1: 0}, [], (0.0, 2.0))
    assert alarms(figures, Signals(), 0.0) == []
