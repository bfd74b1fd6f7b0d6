"""The cost model's measured inputs are what the code does now: a publish's S3 requests and the metrics, re-counted."""

from __future__ import annotations

import json
import os
from typing import Any

from tests.conftest import REPO

COUNTED = ("s3_requests_per_stream_publish", "s3_requests_per_reconcile", "s3_requests_per_heartbeat",
           "custom_metrics_normal_month", "canary_custom_metrics_normal_month")


def recount() -> dict[str, Any]:
    """bench_cost_inputs' own counting (moto in-process), with the environment it sets put back after."""
    from benchmarks.bench_cost_inputs import publish_requests_and_metrics
    from publisher.core import aws
    from publisher.publish import handler as publish
    from publisher.read import handler as read

    saved = dict(os.environ)
    try:
        return publish_requests_and_metrics()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.reset_clients()
        publish.reset()
        read.reset()


def test_committed_cost_inputs_match_what_the_code_does() -> None:
    """A change to what a publish reads or writes, or to the metrics emitted, must reach the cost model:
    re-run `benchmarks/bench_cost_inputs.py` and commit benchmarks/results/cost_inputs.json."""
    committed = json.loads((REPO / "benchmarks" / "results" / "cost_inputs.json").read_text())
    now = recount()
    stale = {key: {"committed": committed.get(key), "now": now[key]}
             for key in COUNTED if committed.get(key) != now[key]}
    assert not stale, f"benchmarks/results/cost_inputs.json is stale, re-run benchmarks/bench_cost_inputs.py: {stale}"
    assert now["s3_requests_per_stream_publish"]["PutObject"] > 1  # it counted a real publish
