"""The local stack's EMF tap: EMF lines are kept and counted off the console, every other line passes."""

from __future__ import annotations

import io
import json
from pathlib import Path

from publisher.local.metrics_tap import MetricsTap, emf_values


def emf(service: str, **values: object) -> str:
    return json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{
        "Namespace": "LlmCatalogue", "Dimensions": [["service"]],
        "Metrics": [{"Name": name, "Unit": "Count"} for name in values]}]}, "service": service, **values})


def test_emf_values_read_plain_and_powertools_list_values() -> None:
    assert emf_values(emf("publisher", InvalidRecords=[1.0, 2.0], WriteConflicts=1)) == (
        "publisher", {"InvalidRecords": 3.0, "WriteConflicts": 1.0})
    assert emf_values("publish: 1 records in 5 ms, snapshot v1, ok") is None
    assert emf_values('{"_aws": not json') is None


def test_the_tap_counts_emf_lines_per_service_and_passes_the_rest(tmp_path: Path) -> None:
    console = io.StringIO()
    tap = MetricsTap(console, tmp_path / "metrics.log")
    tap.write("hello\n" + emf("publisher", InvalidRecords=[2.0]) + "\n" + emf("canary", CanaryProbes=1))
    tap.write("\nbye\n")
    assert console.getvalue() == "hello\nbye\n"
    assert tap.take("publisher") == {"InvalidRecords": 2.0} and tap.take("publisher") == {}
    assert tap.take("canary") == {"CanaryProbes": 1.0}
    assert len((tmp_path / "metrics.log").read_text().splitlines()) == 2
