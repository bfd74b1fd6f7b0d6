"""The canary's run logic against a scripted edge: freshness, versions, API health, leaks, failed writes."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.canary.handler import (
    BROWSER_ACCEPT_ENCODING,
    METRIC_BREACHES,
    METRIC_CHECK_FAILURES,
    METRIC_PROBES,
    accept_encoding,
    decode,
    metrics_document,
)
from publisher.canary.probe import Probe, ProbeSettings, snapshot_problem
from publisher.core.heartbeat import HEARTBEAT_KEY


def snapshot(version: int, names: tuple[str, ...] = ("GPT-4",)) -> bytes:
    models = [{"model_name": n, "provider": "P", "score": 50.0} for n in names]
    return json.dumps({"schema_version": 1, "version": version, "generated_at": "2026-01-01T00:00:00Z",
                       "count": len(models), "models": models}).encode()


class FakeEdge:
    """An edge whose health.json shows a written heartbeat after `delay` seconds of the fake clock."""

    def __init__(self, versions: list[int], delay: float | None = 1.0, previous: dict[str, Any] | None = None,
                 api_status: int = 200, source: str = "s3") -> None:
        self.versions, self.delay, self.api_status, self.source = list(versions), delay, api_status, source
        self.requests: list[tuple[float, str]] = []
        self.time = 0.0
        self.written: dict[str, Any] | None = None
        self.written_at_time = 0.0
        self.previous = previous

    def clock(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += seconds

    def put(self, item: dict[str, Any]) -> None:
        self.written = {k: next(iter(v.values())) for k, v in item.items()}
        self.written_at_time = self.time

    def fetch(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        self.requests.append((self.time, path))
        status, body = self._answer(path)
        return status, body, {"x-snapshot-source": self.source} if path == "/llms.json" else {}

    def _answer(self, path: str) -> tuple[int, bytes]:
        if path == "/llms.json":
            return 200, snapshot(self.versions.pop(0) if len(self.versions) > 1 else self.versions[0])
        if path == "/api/health":
            return self.api_status, json.dumps({"status": "ok"}).encode()
        if path == "/health.json":
            visible = self.written is not None and self.delay is not None and \
                self.time - self.written_at_time >= self.delay
            beat = self.written if visible else self.previous
            if beat is None:
                return 404, b"{}"
            return 200, json.dumps({"heartbeat": {"run_id": beat["run_id"], "written_at": beat["written_at"],
                                                  "last_version": int(beat.get("last_version") or 0)}}).encode()
        raise AssertionError(path)


def probe(edge: FakeEdge, **settings: Any) -> Probe:
    return Probe(ProbeSettings(**settings), edge.fetch, edge.put, clock=edge.clock,
                 sleep=edge.sleep, now=lambda: datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC), run_id="r1")


def test_a_healthy_run_measures_freshness_and_passes() -> None:
    edge = FakeEdge([7], delay=1.0)
    result = probe(edge).run()
    assert result.ok and result.freshness == pytest.approx(1.0)
    assert [c.name for c in result.checks] == ["snapshot", "api-health", "freshness", "versions"]
    assert edge.written == {"model_name": HEARTBEAT_KEY, "run_id": "r1", "written_at": "2026-01-02T03:04:05.678Z",
                            "last_version": "7"}
    document = metrics_document(result, 120)
    # Good runs send only the probe and its freshness: bad-event counts bill only when they happen.
    assert document[METRIC_PROBES] == 1 and document["FreshnessSeconds"] == pytest.approx(1.0)
    assert METRIC_BREACHES not in document and METRIC_CHECK_FAILURES not in document
    assert {m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {
        METRIC_PROBES, "FreshnessSeconds"}


def test_freshness_over_the_maximum_fails_naming_freshness() -> None:
    result = probe(FakeEdge([7], delay=1.0), max_freshness=0.001).run()
    assert [c.name for c in result.failures] == ["freshness"]
    assert "exceeded the maximum of 0.001 s" in result.failures[0].detail
    # Over the CLI's maximum but within the SLO: a good event for the SLI.
    assert result.freshness_good and METRIC_BREACHES not in metrics_document(result, 120)


def test_a_stalled_pipeline_fails_after_the_timeout_and_is_a_bad_event() -> None:
    edge = FakeEdge([7], delay=None, previous={"run_id": "old", "written_at": "2026-01-02T03:00:00.000Z"})
    result = probe(edge, timeout=5).run()
    assert result.freshness is None and not result.freshness_good
    (failure,) = result.failures
    assert failure.name == "freshness" and "not visible at the edge within 5 s" in failure.detail
    assert "2026-01-02T03:00:00.000Z" in failure.detail
    assert edge.time >= 5
    document = metrics_document(result, 5)
    assert document[METRIC_BREACHES] == 1 and document["FreshnessSeconds"] == 5
    assert METRIC_CHECK_FAILURES not in document


def test_a_snapshot_answered_by_the_failover_fails_the_snapshot_check() -> None:
    """llms.json missing in S3: CloudFront asks the read function, which answers 200 from its copy.
    Readers still get a catalogue, so only this check (and its canary-checks alarm) says so."""
    for source in ("memory", "dynamodb", None):
        result = probe(FakeEdge([7], source=source)).run()  # type: ignore[arg-type]
        (failure,) = result.failures
        assert failure.name == "snapshot" and f"X-Snapshot-Source: {source}" in failure.detail


def test_polls_are_sparse_reader_requests_within_the_cost_budget() -> None:
    """No tight loop that keeps the edge's copy warm: a run sends at most `edge_requests` requests,
    and at the canary's schedule that is at most 10% of CloudFront's Free plan (1M a month)."""
    stalled = FakeEdge([7], delay=None)
    result = probe(stalled).run()
    settings = ProbeSettings()
    assert not result.freshness_good and len(stalled.requests) == settings.edge_requests
    polls = [at for at, path in stalled.requests if path == "/health.json"][1:]
    assert polls == [t for t in settings.polls()] and polls[-1] == settings.timeout
    assert min(b - a for a, b in zip(polls, polls[1:], strict=False)) >= 1
    variables = (Path(__file__).resolve().parents[2] / "infra" / "variables.tf").read_text()
    every = re.search(r'variable "canary_schedule_expression" \{[^}]*default\s*=\s*"rate\((\d+) minutes?\)"',
                      variables)
    assert every, "the canary's schedule is a rate() in minutes"
    runs_per_month = 730 * 60 / int(every.group(1))
    assert runs_per_month * settings.edge_requests <= 0.10 * 1_000_000
    fresh = FakeEdge([7], delay=2.5)
    assert probe(fresh).run().freshness == pytest.approx(3.0) and len(fresh.requests) == 4 + 2


def test_a_later_heartbeat_on_the_same_key_counts_as_ours() -> None:
    later = (datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC) + timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    edge = FakeEdge([7], delay=None)
    edge.previous = None
    result = probe(edge)
    original = edge.fetch

    def fetch(path: str) -> tuple[int, bytes, dict[str, str]]:
        if path == "/health.json" and edge.written is not None and edge.time >= 2:
            return 200, json.dumps({"heartbeat": {"run_id": "another", "written_at": later}}).encode(), {}
        return original(path)

    result.fetch = fetch
    assert result.run().freshness == pytest.approx(3.0)  # the first poll at or after 2 s


def test_versions_going_backward_between_runs_fail() -> None:
    previous = {"run_id": "old", "written_at": "2026-01-02T03:00:00.000Z", "last_version": 9}
    result = probe(FakeEdge([7], previous=previous)).run()
    (failure,) = result.failures
    assert failure.name == "versions" and "is version 7, a previous run saw 9" in failure.detail
    assert probe(FakeEdge([7])).run(last_version=8).failures[0].name == "versions"
    assert probe(FakeEdge([7])).run(last_version=7).ok


def test_versions_going_backward_within_a_run_fail() -> None:
    result = probe(FakeEdge([7, 6])).run()
    assert [c.detail for c in result.failures] == ["version went backward within the run: 7, then 6"]


def test_the_api_health_route_must_answer_ok() -> None:
    result = probe(FakeEdge([7], api_status=503)).run()
    assert [c.name for c in result.failures] == ["api-health"]
    assert metrics_document(result, 120)[METRIC_CHECK_FAILURES] == 1


def test_a_failed_heartbeat_write_is_reported_by_name() -> None:
    edge = FakeEdge([7])

    def refuse(item: dict[str, Any]) -> None:
        raise PermissionError("AccessDeniedException: not your key")

    result = Probe(ProbeSettings(), edge.fetch, refuse, clock=edge.clock, sleep=edge.sleep).run()
    (failure,) = result.failures
    assert failure.name == "freshness" and "writing the heartbeat failed: PermissionError" in failure.detail


def test_an_unreachable_edge_fails_every_read_check() -> None:
    edge = FakeEdge([7])

    def down(path: str) -> tuple[int, bytes, dict[str, str]]:
        raise ConnectionRefusedError("refused")

    result = Probe(ProbeSettings(timeout=1), down, edge.put, clock=edge.clock,
                   sleep=edge.sleep).run()
    assert {c.name for c in result.failures} == {"snapshot", "api-health", "freshness"}


@pytest.mark.parametrize(("body", "problem"), [
    (b"<html>", "not JSON"),
    (b"[]", "not a JSON object"),
    (json.dumps({"version": "7"}).encode(), "version is not a whole number"),
    (json.dumps({"schema_version": 1, "version": 7, "generated_at": "x", "count": 2, "models": []}).encode(),
     "count 2 does not match its 0 models"),
    (json.dumps({"schema_version": 1, "version": 7, "generated_at": "x", "count": 1,
                 "models": [{"model_name": "A", "provider": "P", "score": 150}]}).encode(), "score in 0..100"),
    (snapshot(7, ("GPT-4", HEARTBEAT_KEY)), "the canary's heartbeat is in the catalogue"),
])
def test_an_invalid_snapshot_is_named(body: bytes, problem: str) -> None:
    assert problem in (snapshot_problem(body)[1] or "")


def test_a_valid_snapshot_has_no_problem() -> None:
    assert snapshot_problem(snapshot(3)) == (3, None)


def test_the_canary_asks_as_a_browser_and_decodes_what_it_gets() -> None:
    body = snapshot(7)
    assert decode(gzip.compress(body), "gzip") == body and decode(zlib.compress(body), "deflate") == body
    assert decode(body, None) == body
    with pytest.raises(ValueError, match="cannot decode Content-Encoding zstd"):
        decode(body, "zstd")
    # health.json and /api/health are under CloudFront's 1,000-byte compression floor: a browser's
    # header gets their browser copy, uncompressed.
    assert accept_encoding("/health.json") == BROWSER_ACCEPT_ENCODING == "gzip, deflate, br, zstd"
    brotli = pytest.importorskip("brotli")
    assert decode(brotli.compress(body), "br") == body and accept_encoding("/llms.json") == BROWSER_ACCEPT_ENCODING
