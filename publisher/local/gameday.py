"""Game day: each scenario switches a fault on (local/faults.py) under steady readers and a writer, then
off, then lets the stack settle, and measures what readers and writers saw (gameday_metrics.py).

The operator's part is played too: when the dead-letter queue holds records after the fault, the
runbook's redrive (`python -m publisher dlq --redrive`) runs, as the `publisher-dlq-messages` page asks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.core.identity import key
from publisher.core.slo import FRESHNESS_TARGET_SECONDS
from publisher.local.emulator import local_aws_env
from publisher.local.faults import clear_faults, read_faults, set_faults
from publisher.local.gameday_load import (
    BULK_PROVIDER,
    WRITER_PROVIDER,
    Ledger,
    Readers,
    Writer,
    dynamodb_client,
    reader_paths,
    snapshot_holdings,
)
from publisher.local.gameday_metrics import Signals, measure_paths, summarise
from publisher.local.launch import REPO, http_get
from publisher.local.resources import LOCAL_DLQ_NAME, set_trigger


@dataclass(frozen=True)
class Scenario:
    name: str
    phases: tuple[dict[str, str], ...]  # fault board settings, each for an equal share of the fault time
    aws: str  # the same failure in AWS
    trigger_off: bool = False
    bulk: bool = False
    # The runbook's alarms that need longer than a game day's fault to fire, and after how long.
    if_sustained: tuple[str, ...] = ()


SCENARIOS = (
    Scenario("control-plane blackout", ({"publisher": "error", "dynamodb": "error"},),
             "the event source mapping disabled, every publisher invocation failing, DynamoDB answering 5xx "
             "(a regional DynamoDB or Lambda event), together", trigger_off=True,
             if_sustained=("publisher-iterator-age (60 s)", "freshness-fast-burn (about 10 min)",
                           "canary-checks (3 runs: the heartbeat write fails)")),
    Scenario("origin outage", ({"s3": "error"}, {"s3": "timeout"}),
             "S3 answering 500 to every GET and PUT, then not answering at all (an S3 event, a KMS key "
             "disabled, a broken bucket policy)",
             if_sustained=("publish-failures (3 min)", "publisher-dlq-messages (after 5 retries)",
                           "freshness-fast-burn (about 10 min)")),
    Scenario("read function outage", ({"read": "error"}, {"read": "throttle"}),
             "the read function raising (a bad deploy), then throttled (reserved concurrency exhausted)",
             if_sustained=("canary-checks (3 runs: /api/health fails)",)),
    Scenario("publisher crash loop during bulk seed", ({"publisher": "error"},),
             "a publisher deploy that crashes on every invocation while an import writes thousands of items",
             bulk=True, if_sustained=("publisher-iterator-age (60 s)", "freshness-fast-burn (about 10 min)")),
)


@dataclass
class Timing:
    warmup: float = 5.0
    fault: float = 20.0
    settle: float = 15.0
    readers: int = 32
    write_interval: float = 0.3
    bulk_models: int = 3000
    reader_pause: float = 0.05
    # Start an S3 outage only once the read function answers from the version the edge shows. Without
    # it, an outage that begins within the function's revalidation interval of a publish leaves its
    # copy one version behind the edge's, and the failover paths can answer that older version (an
    # open limit, SOLUTION section 17): `make gameday` keeps that race; the short test sets this.
    align_read_copy: bool = False


@dataclass
class GameDay:
    edge: str
    endpoint: str
    log_path: Path | None
    timing: Timing = field(default_factory=Timing)
    table: str = "llm_scores"
    out: Callable[[str], None] = print
    ledger: Ledger = field(default_factory=Ledger)
    holdings: dict[int, int] = field(default_factory=dict)  # snapshot version -> writer models it holds

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="gameday", aws_secret_access_key="gameday")  # noqa: S106

    def edge_get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return http_get(self.edge + path)

    def dlq_url(self) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=LOCAL_DLQ_NAME)["QueueUrl"])

    def dlq_depth(self) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.dlq_url(), AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def published(self) -> tuple[int, int] | None:
        """(writer models, bulk models) in the /llms.json the edge serves now."""
        try:
            status, _, body = self.edge_get("/llms.json")
        except OSError:
            return None
        held = snapshot_holdings(body) if status == 200 else None
        if held is None:
            return None
        self.holdings.setdefault(held[0], held[1])
        return held[1], held[2]

    def prepare(self, timeout: float = 30.0) -> None:
        """One writer model published before any reader starts, so every path the readers visit exists
        (the writer's provider file appears with its first model)."""
        writer = Writer(self.endpoint, self.table, self.ledger, interval=3600)
        writer.start()
        deadline = time.monotonic() + timeout
        while not self.ledger.acked or (self.published() or (0, 0))[0] < len(self.ledger.acked):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the first game-day write was not published within {timeout:.0f} s")
            time.sleep(0.1)
        writer.stopping.set()
        writer.join(10)
        status, _, _ = self.edge_get(f"/providers/{key(WRITER_PROVIDER)}.json")
        while status != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            status, _, _ = self.edge_get(f"/providers/{key(WRITER_PROVIDER)}.json")

    def redrive(self) -> str:
        """The runbook's redrive, as an operator runs it against the local stack."""
        env = {**os.environ, **local_aws_env(self.endpoint)}
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "publisher", "dlq", "--queue-url", self.dlq_url(), "--redrive",
             "--endpoint", self.endpoint], cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
            check=False)
        last_error = (done.stderr.strip().splitlines() or [""])[-1][:200] if done.returncode else ""
        return f"redrive exited {done.returncode}" + (f": {last_error}" if last_error else "")

    def _log_since(self, offset: int) -> str:
        if self.log_path is None:
            return ""
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", "replace")

    def _log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path and self.log_path.exists() else 0

    def _bulk(self, count: int, done: dict[str, Any]) -> None:
        from decimal import Decimal

        from publisher.ops.seed import seed

        models = [{"model_name": f"{BULK_PROVIDER} {i:06d}", "provider": BULK_PROVIDER,
                   "score": Decimal(str(round(10 + (i % 890) / 10, 1)))} for i in range(count)]
        try:
            done["written"] = seed(dynamodb_client(self.endpoint), self.table, models, max_attempts=30)
        except Exception as exc:  # noqa: BLE001 - reported in the scenario's notes
            done["error"] = f"{type(exc).__name__}: {exc}"
        done["at"] = time.monotonic()

    def run(self, scenarios: tuple[Scenario, ...] = SCENARIOS) -> list[dict[str, Any]]:
        self.prepare()
        results = []
        for scenario in scenarios:
            self.out(f"scenario: {scenario.name} ({self.timing.fault:g} s of fault)")
            results.append(self.run_scenario(scenario))
        return results

    def run_scenario(self, scenario: Scenario) -> dict[str, Any]:
        t = self.timing
        paths = reader_paths(self.edge_get, key)
        readers = Readers(self.edge, paths, t.readers, self.holdings, pause=t.reader_pause)
        writer = Writer(self.endpoint, self.table, self.ledger, t.write_interval)
        log_offset, refused_before = self._log_size(), read_faults(self.endpoint)["refused"]
        writer_refused_before, acked_before = self.ledger.refused, len(self.ledger.acked)
        bulk_before = (self.published() or (0, 0))[1]  # also what the current version holds
        notes: list[str] = []
        readers.start()
        writer.start()
        time.sleep(t.warmup)
        fault_start = time.monotonic()
        bulk: dict[str, Any] = {}
        if scenario.trigger_off:
            set_trigger(self.client("ssm"), enabled=False)
        if scenario.bulk:
            threading.Thread(target=self._bulk, args=(t.bulk_models, bulk), daemon=True).start()
        if t.align_read_copy and any("s3" in phase for phase in scenario.phases):
            self._align_read_copy(writer)
        for phase in scenario.phases:
            clear_faults(self.endpoint)
            set_faults(self.endpoint, **phase)
            writer.running.set()
            time.sleep(t.fault / len(scenario.phases))
        clear_faults(self.endpoint)
        if scenario.trigger_off:
            set_trigger(self.client("ssm"), enabled=True)
        fault_end = time.monotonic()
        recovered, dlq_max = self._recover(scenario, fault_end, bulk, bulk_before, notes)
        writer.stopping.set()
        writer.join(10)
        readers.stopping.set()
        readers.join(30)
        lost = self._lost(bulk_before + bulk.get("written", 0), notes)
        log = self._log_since(log_offset)
        refused = read_faults(self.endpoint)["refused"]
        signals = Signals(
            publisher_errors=log.count("publisher raised"),
            failed_publishes=sum(1 for line in log.splitlines() if line.startswith("publish:") and " failed" in line),
            dlq_max=dlq_max, s3_refused=refused["s3"] - refused_before["s3"],
            dynamodb_refused=refused["dynamodb"] - refused_before["dynamodb"],
            writer_refused=self.ledger.refused - writer_refused_before)
        if "error" in bulk:
            notes.append(f"bulk seed failed: {bulk['error']}")
        elif scenario.bulk:
            notes.append(f"bulk seed: {bulk.get('written', 0)} models acknowledged during the crash loop")
        figures = measure_paths(readers.reads, paths, dict(self.holdings), list(self.ledger.acked),
                                (fault_start, fault_end))
        acked = len(self.ledger.acked) - acked_before + bulk.get("written", 0)
        recovery = None if recovered is None else max(0.0, recovered - fault_end)
        result = summarise(scenario.name, figures, acked, lost, recovery, signals, notes)
        return {**result, "aws": scenario.aws, "alarms_if_sustained": list(scenario.if_sustained)}

    def _align_read_copy(self, writer: Any, timeout: float = 15.0) -> None:
        """Hold the writer until every acknowledged write is public and the read function's copy is
        the version the edge serves (the writer resumes once the fault is on)."""
        writer.running.clear()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                edge_version = json.loads(self.edge_get("/llms.json")[2])["version"]
                status, headers, _ = self.edge_get("/api/llms?limit=1")
            except (OSError, ValueError, KeyError):
                edge_version, status, headers = None, 0, {}
            read_version = {k.lower(): v for k, v in headers.items()}.get("x-snapshot-version")
            held = self.published()  # every acknowledged write public: no publish is still on its way
            if (status == 200 and edge_version is not None and read_version == str(edge_version)
                    and held is not None and held[0] >= len(self.ledger.acked)):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the read function did not reach the edge's version within {timeout} s")

    def _recover(self, scenario: Scenario, fault_end: float, bulk: dict[str, Any], bulk_before: int,
                 notes: list[str]) -> tuple[float | None, int]:
        """Settle: watch until every write acknowledged before the fault's end is public (redriving
        the DLQ when it holds records, as the runbook says), for the settle time and at most the SLO."""
        t = self.timing
        must_hold = self.ledger.count_before(fault_end)
        recovered: float | None = None
        dlq_max = 0
        while True:
            now = time.monotonic()
            if scenario.bulk and "at" not in bulk and now - fault_end < FRESHNESS_TARGET_SECONDS:
                time.sleep(0.25)
                continue
            depth = self.dlq_depth()
            dlq_max = max(dlq_max, depth)
            if depth and now - fault_end > 1.0:
                notes.append(f"operator: DLQ held {depth} record batches {now - fault_end:.1f} s after the fault; "
                             f"{self.redrive()}")
            if recovered is None:
                held = self.published()
                bulk_needed = bulk_before + bulk.get("written", 0)
                if held and held[0] >= must_hold and held[1] >= bulk_needed:
                    recovered = time.monotonic()
            settled = now - fault_end >= t.settle
            if settled and (recovered is not None or now - fault_end > FRESHNESS_TARGET_SECONDS):
                return recovered, dlq_max
            time.sleep(0.25)

    def _lost(self, bulk_needed: int, notes: list[str]) -> int:
        """Acknowledged writes still not public once the writer stopped, after up to the SLO's wait."""
        deadline = time.monotonic() + FRESHNESS_TARGET_SECONDS
        must_hold = len(self.ledger.acked)
        while True:
            held = self.published() or (0, 0)
            missing = max(0, must_hold - held[0]) + max(0, bulk_needed - held[1])
            if not missing or time.monotonic() > deadline:
                break
            if self.dlq_depth():
                notes.append(f"operator: DLQ held records at the end of the settle; {self.redrive()}")
            time.sleep(0.25)
        return missing
