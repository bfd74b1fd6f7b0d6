"""SOLUTION's game-day table quotes benchmarks/results/gameday.json, row by row."""

from __future__ import annotations

import json

from publisher.local.gameday import SCENARIOS
from tests.unit.test_architecture import REPO

RESULTS = json.loads((REPO / "benchmarks" / "results" / "gameday.json").read_text(encoding="utf-8"))


def row(result: dict) -> str:
    recovery = "never" if result["recovery_s"] is None else f"{result['recovery_s']:.1f} s"
    alarms = ", ".join(result["alarms"]) or "none"
    return (f"| {result['name']} | {result['static_read_ok_ratio']:.3%} | {result['api_read_ok_ratio']:.2%} | "
            f"{result['read_ok_ratio']:.2%} | {result['max_staleness_s']:.1f} s | {result['versions_backward']} | "
            f"{result['acked_writes']} / {result['lost_writes']} | {recovery} | {alarms} |")


def test_the_results_file_holds_every_scenario() -> None:
    assert [r["name"] for r in RESULTS["scenarios"]] == [s.name for s in SCENARIOS]


def test_solution_quotes_each_scenario_of_the_results_file() -> None:
    solution = (REPO / "SOLUTION.md").read_text(encoding="utf-8")
    assert f"measured {RESULTS['measured_at']}" in solution
    for result in RESULTS["scenarios"]:
        assert row(result) in solution, f"SOLUTION section 17 does not quote {result['name']!r} as measured"
