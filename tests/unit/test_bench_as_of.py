"""The history benchmark measures against the read function as deployed, and its results carry the issue's fields."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_memory_the_reader_is_held_to_is_the_read_functions() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_as_of import READ_MEMORY_MB
    from cost.inputs import infra_inputs

    assert infra_inputs()["read_memory_mb"] == READ_MEMORY_MB


def test_the_results_file_has_every_figure_the_issue_asks_for() -> None:
    results = json.loads((REPO / "benchmarks" / "results" / "as_of.json").read_text())
    assert {"models", "versions", "s3_latency_ms", "cold_p99_ms", "cold_s3_requests", "warm_p99_ms",
            "peak_rss_mb", "catch_up_wire_bytes", "llms_json_bytes"} <= set(results)
    assert (results["models"], results["versions"], results["s3_latency_ms"]) == (10_000, 20_000, 20)
