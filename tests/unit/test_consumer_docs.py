"""What README and SOLUTION promise a consumer about freshness quotes the benchmark's results file."""

from __future__ import annotations

import json
import re

from tests.unit.test_architecture import REPO

RESULTS = json.loads((REPO / "benchmarks" / "results" / "freshness.json").read_text(encoding="utf-8"))


def seconds(value: float) -> str:
    return f"{abs(value):.2f}"


def test_the_readme_quotes_the_measured_freshness_of_each_local_path() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    edge = re.search(r"the write shows within about [\d.]+ s \(median ([\d.]+) s, worst ([\d.]+) s", readme)
    assert edge, "README's freshness table no longer states the edge's measured median and worst"
    assert edge.groups() == (seconds(RESULTS["median_s"]), seconds(RESULTS["worst_s"]))
    api = re.search(r"measured: median ([\d.]+) s \*(earlier|later)\*, worst ([\d.]+) s (earlier|later)", readme)
    assert api, "README's freshness table no longer states how far the API trails /llms.json"
    gap = RESULTS["api_after_edge"]["api lookup"]
    median_side = "earlier" if gap["median_s"] < 0 else "later"
    worst_side = "earlier" if gap["worst_s"] < 0 else "later"
    assert api.groups() == (seconds(gap["median_s"]), median_side, seconds(gap["worst_s"]), worst_side)


def test_solution_quotes_the_same_gap_between_the_api_and_llms_json() -> None:
    solution = (REPO / "SOLUTION.md").read_text(encoding="utf-8")
    worst = max(v["worst_s"] for v in RESULTS["api_after_edge"].values())
    assert f"the API shows a write at most {seconds(worst)} s after `/llms.json` does" in solution
    assert f"worst {'+' if worst >= 0 else '-'}{seconds(worst)} s | <= 0.5 s |" in solution
