"""Every row of the runbook's alert table fires on the metric data its failure really produces.

The alarms are the deployed ones (DescribeAlarms after `make infra-local`), run by a small CloudWatch
evaluator (tests/infra/alarm_eval.py) over three days of healthy samples and then the failure's:
which alarm goes to ALARM, and how many minutes after the failure began. What each failure sends,
and what it does NOT send (a stopped trigger invokes nothing, so Lambda sends no IteratorAge at all),
is written beside each scenario from the services' documented metrics and this code's EMF.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .alarm_eval import Metrics, simulate
from .conftest import LocalStack
from .test_emulator_apply import describe_all_alarms

pytestmark = pytest.mark.infra

SLO = json.loads((Path(__file__).resolve().parents[2] / "infra" / "slo.json").read_text())
CANARY = SLO["canary"]
DAY = 86_400
T0 = 3 * DAY + 7 * 60  # the failure begins (three days of history first: the slow tier's window)
HORIZON = 4 * 3600  # evaluated until then after T0
READS_PER_MINUTE = 600
PREFIX = "llm-catalogue-"


@dataclass(frozen=True)
class Stack:
    """The deployed names every metric is dimensioned by, and the canary's cadence."""

    publisher: str
    read: str
    queue: str
    distribution: str
    canary_every: int  # seconds between canary runs (its schedule)
    canary_wait: int  # how long a run waits for its heartbeat before reporting a breach


class World:
    """The samples each service sends, minute by minute; a failure switches parts of it off or on."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.metrics = stack, Metrics()

    def lam(self, function: str, name: str, at: float, value: float) -> None:
        self.metrics.put("AWS/Lambda", name, {"FunctionName": function}, at, value)

    def emf(self, service: str, name: str, at: float, value: float) -> None:
        self.metrics.put(CANARY["namespace"], name, {"service": service}, at, value)

    def canary_run(self, start: float, seen_after: float | None, check_failures: int = 0) -> None:
        """publisher/canary/handler.py's EMF line, stamped when the run ends: probes and freshness
        always; breaches and check failures only when non-zero."""
        wait = self.stack.canary_wait
        at = start + (wait if seen_after is None or seen_after > wait else seen_after) + 2
        metrics = CANARY["metrics"]
        self.emf("canary", metrics["probes"], at, 1)
        self.emf("canary", metrics["freshness"], at, wait if seen_after is None else seen_after)
        if seen_after is None or seen_after > SLO["slos"]["freshness"]["threshold_seconds"]:
            self.emf("canary", metrics["breaches"], at, 1)
        if check_failures:
            self.emf("canary", metrics["check_failures"], at, check_failures)

    def heartbeat_publish(self, at: float) -> None:
        """The publish a heartbeat causes: Lambda sends Invocations, Errors (0), Duration and
        IteratorAge for the minute it ran in."""
        self.lam(self.stack.publisher, "Invocations", at, 1)
        self.lam(self.stack.publisher, "Errors", at, 0)
        self.lam(self.stack.publisher, "IteratorAge", at, 900)
        self.lam(self.stack.publisher, "Duration", at, 250)

    def reads(self, at: float, errors: int = 0, throttles: int = 0) -> None:
        """One minute of the read API: every request through its function URL; a throttled one is
        a 429 (Url4xxCount), not a 5xx; an error or timeout is a 5xx."""
        self.lam(self.stack.read, "UrlRequestCount", at, READS_PER_MINUTE)
        self.lam(self.stack.read, "Url5xxCount", at, errors)
        self.lam(self.stack.read, "Url4xxCount", at, throttles)
        self.lam(self.stack.read, "Throttles", at, throttles)
        self.lam(self.stack.read, "Errors", at, errors)
        for _ in range(5):
            self.lam(self.stack.read, "Duration", at, 40)

    def edge(self, at: float, rate_5xx: float = 0.0) -> None:
        self.metrics.put("AWS/CloudFront", "5xxErrorRate", {"DistributionId": self.stack.distribution,
                                                             "Region": "Global"}, at, rate_5xx)


Failure = Callable[[World, float, bool], None]  # (world, minute, failing) -> that minute's samples


def healthy(world: World, minute: float, failing: bool) -> None:
    """The stack working: the canary's heartbeat at the edge in 15 s, reads answered, no 5xx. The
    DLQ is empty and untouched, so SQS sends nothing for it (a queue inactive for 6 h has no metrics)."""
    if minute % world.stack.canary_every == 0:
        world.canary_run(minute, seen_after=15)
        world.heartbeat_publish(minute + 10)
    world.reads(minute + 30)
    world.edge(minute + 30)


def trigger_stopped(world: World, minute: float, failing: bool) -> None:
    """Trigger disabled or deleted: nothing invokes the publisher, so Lambda sends no IteratorAge,
    Errors or Duration at all; writes wait in the stream; health.json stays where it was, so every
    canary run waits out its timeout and reports a breach. /llms.json still answers: no check fails."""
    if not failing:
        return healthy(world, minute, failing)
    if minute % world.stack.canary_every == 0:
        world.canary_run(minute, seen_after=None)
    world.reads(minute + 30)
    world.edge(minute + 30)


def publisher_raising(world: World, minute: float, failing: bool) -> None:
    """A bad publisher deploy: every invocation raises. The trigger retries the batch (Errors every
    retry, IteratorAge growing with the oldest record), the heartbeat never reaches health.json."""
    if not failing:
        return healthy(world, minute, failing)
    for second in (5, 25, 45):
        world.lam(world.stack.publisher, "Errors", minute + second, 1)
        world.lam(world.stack.publisher, "IteratorAge", minute + second, (minute + second - T0) * 1000)
    if minute % world.stack.canary_every == 0:
        world.canary_run(minute, seen_after=None)
    world.reads(minute + 30)
    world.edge(minute + 30)


def publish_failing(world: World, minute: float, failing: bool) -> None:
    """S3 writes refused (a key or bucket policy change): the publisher reports the batch as item
    failures and counts PublishFailures (EMF) instead of raising, so Errors stay 0; retries go on."""
    if not failing:
        return healthy(world, minute, failing)
    for second in (5, 25, 45):
        world.lam(world.stack.publisher, "Errors", minute + second, 0)
        world.lam(world.stack.publisher, "IteratorAge", minute + second, (minute + second - T0) * 1000)
        world.emf("publisher", "PublishFailures", minute + second, 1)
    if minute % world.stack.canary_every == 0:
        world.canary_run(minute, seen_after=None)
    world.reads(minute + 30)
    world.edge(minute + 30)


def dlq_parked(world: World, minute: float, failing: bool) -> None:
    """A batch given up on (or a failed reconcile) parked in the DLQ: a queue holding messages is
    active, so SQS sends ApproximateNumberOfMessagesVisible every minute; the pipeline runs on."""
    healthy(world, minute, failing)
    if failing:
        world.metrics.put("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": world.stack.queue},
                          minute + 30, 1)


def snapshot_missing(world: World, minute: float, failing: bool) -> None:
    """llms.json deleted from the bucket: CloudFront fails over to the read function, which answers
    200 from its copy (X-Snapshot-Source not `s3`): no 5xx anywhere. The canary's snapshot check sees
    the source and fails; the heartbeat still goes through health.json."""
    if not failing:
        return healthy(world, minute, failing)
    if minute % world.stack.canary_every == 0:
        world.canary_run(minute, seen_after=15, check_failures=1)
        world.heartbeat_publish(minute + 10)
    world.reads(minute + 30)
    world.edge(minute + 30)


def read_throttled(world: World, minute: float, failing: bool) -> None:
    """The read function at its reserved concurrency: 5% of its requests throttled (429s)."""
    if not failing:
        return healthy(world, minute, failing)
    if minute % world.stack.canary_every == 0:
        world.canary_run(minute, seen_after=15)
        world.heartbeat_publish(minute + 10)
    world.reads(minute + 30, throttles=READS_PER_MINUTE // 20)
    world.edge(minute + 30)


def read_erroring(world: World, minute: float, failing: bool) -> None:
    """A bad read-function deploy: every /api/* request a 5xx; /api/* is 10% of the edge's requests,
    so CloudFront's 5xx rate is 10%. The canary's api-health check fails."""
    if not failing:
        return healthy(world, minute, failing)
    if minute % world.stack.canary_every == 0:
        world.canary_run(minute, seen_after=15, check_failures=1)
        world.heartbeat_publish(minute + 10)
    world.reads(minute + 30, errors=READS_PER_MINUTE)
    world.edge(minute + 30, rate_5xx=10.0)


def waf_blocking(world: World, minute: float, failing: bool) -> None:
    """A WAF rule that blocks readers (the canary is one): 403s, which are not 5xx and never reach
    an origin. The canary's /llms.json and /api/health checks fail and its heartbeat is never seen."""
    if not failing:
        return healthy(world, minute, failing)
    if minute % world.stack.canary_every == 0:
        world.canary_run(minute, seen_after=None, check_failures=2)
        world.heartbeat_publish(minute + 10)
    world.lam(world.stack.read, "UrlRequestCount", minute + 30, 0)
    world.edge(minute + 30)


def canary_silent(world: World, minute: float, failing: bool) -> None:
    """The canary's schedule disabled or its function broken before it sends its EMF line: no
    canary metric at all, and no heartbeat publishes."""
    if not failing:
        return healthy(world, minute, failing)
    world.reads(minute + 30)
    world.edge(minute + 30)


def freshness_slow(world: World, minute: float, failing: bool) -> None:
    """A slow publish path: one heartbeat in four reaches the edge after 90 s (above the SLO's
    60 s), the others in time; nothing else is wrong."""
    if not failing:
        return healthy(world, minute, failing)
    if minute % world.stack.canary_every == 0:
        late = (minute // world.stack.canary_every) % 4 == 0
        world.canary_run(minute, seen_after=90 if late else 15)
        world.heartbeat_publish(minute + (90 if late else 10))
    world.reads(minute + 30)
    world.edge(minute + 30)


# failure -> (the alarms that must go to ALARM, each within this many minutes; alarms that must not)
SCENARIOS: dict[str, tuple[Failure, dict[str, int], set[str]]] = {
    "healthy": (healthy, {}, set()),
    "trigger-stopped": (trigger_stopped, {"freshness-fast-burn": 15, "freshness-slow-burn": 240},
                        {"publisher-iterator-age", "publisher-errors", "canary-checks"}),
    "publisher-raising": (publisher_raising, {"publisher-errors": 1, "publisher-iterator-age": 5,
                                              "freshness-fast-burn": 15}, set()),
    "publish-failing": (publish_failing, {"publish-failures": 3, "publisher-iterator-age": 5,
                                          "freshness-fast-burn": 15}, {"publisher-errors"}),
    "dlq-parked": (dlq_parked, {"publisher-dlq-messages": 1}, {"freshness-fast-burn"}),
    "snapshot-missing": (snapshot_missing, {"canary-checks": 15},
                         {"edge-availability-fast-burn", "api-availability-fast-burn"}),
    "read-throttled": (read_throttled, {"read-throttles": 1}, {"api-availability-fast-burn"}),
    "read-erroring": (read_erroring, {"api-availability-fast-burn": 2, "edge-availability-fast-burn": 6,
                                      "canary-checks": 15}, set()),
    "waf-blocking": (waf_blocking, {"canary-checks": 15, "freshness-fast-burn": 15},
                     {"edge-availability-fast-burn"}),
    "canary-silent": (canary_silent, {"canary-not-running": 11}, {"freshness-fast-burn"}),
    "freshness-slow": (freshness_slow, {"freshness-fast-burn": 40, "freshness-slow-burn": 240},
                       {"canary-checks"}),
}


def schedule_seconds(expression: str) -> int:
    match = re.fullmatch(r"rate\((\d+) minutes?\)", expression)
    assert match, f"canary schedule {expression!r} is not a rate(); model it here"
    return int(match.group(1)) * 60


@pytest.fixture(scope="module")
def deployed(local_stack: LocalStack) -> tuple[dict[str, Any], dict[str, Any], Stack]:
    metric, composite = describe_all_alarms(local_stack)
    schedule = local_stack.client("scheduler").get_schedule(Name="llm-catalogue-canary")["ScheduleExpression"]
    (distribution,) = local_stack.client("cloudfront").list_distributions()["DistributionList"]["Items"]
    stack = Stack(publisher=local_stack.outputs["publisher_function"], read=local_stack.outputs["read_function"],
                  queue=local_stack.outputs["dlq_url"].rsplit("/", 1)[1], distribution=distribution["Id"],
                  canary_every=schedule_seconds(schedule), canary_wait=CANARY["timeout_seconds"])
    return metric, composite, stack


def run(failure: Failure, metric: dict[str, Any], composite: dict[str, Any], stack: Stack) -> dict[str, float]:
    """Minutes after T0 at which each alarm first went to ALARM (evaluated from 10 minutes before)."""
    world = World(stack)
    for minute in range(0, T0 + HORIZON, 60):
        failure(world, minute, minute >= T0)
    timeline = simulate(metric, composite, world.metrics, T0 - 600, T0 + HORIZON)
    return {name.removeprefix(PREFIX): (at - T0) / 60 for name, at in timeline.alarmed().items()}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_failure_fires_its_alarms_in_time(deployed: tuple[dict[str, Any], dict[str, Any], Stack],
                                               scenario: str) -> None:
    metric, composite, stack = deployed
    failure, expected, quiet = SCENARIOS[scenario]
    fired = run(failure, metric, composite, stack)
    print(f"\n{scenario}: " + (", ".join(f"{name} after {minutes:g} min" for name, minutes in sorted(
        fired.items(), key=lambda item: item[1])) or "no alarm"))
    assert all(minutes >= 0 for minutes in fired.values()), f"alarm before the failure: {fired}"
    for name, within in expected.items():
        assert name in fired, f"{scenario}: {name} never fired ({fired})"
        assert fired[name] <= within, f"{scenario}: {name} after {fired[name]} min, expected <= {within}"
    assert not quiet & set(fired), f"{scenario}: {quiet & set(fired)} fired"
    if scenario == "healthy":
        assert fired == {}


def test_every_paging_alarm_is_proven_by_a_scenario(deployed: tuple[dict[str, Any], dict[str, Any], Stack]) -> None:
    """No row of the table is left without a failure that fires it."""
    metric, composite, _ = deployed
    notifying = {name.removeprefix(PREFIX) for name, alarm in {**metric, **composite}.items()
                 if alarm["ActionsEnabled"]}
    proven = {name for _, expected, _ in SCENARIOS.values() for name in expected}
    unproven = notifying - proven
    # The slow tiers of the availability SLOs and the p99 ticket fire on the same data, only slower.
    assert unproven <= {"edge-availability-slow-burn", "api-availability-slow-burn", "read-p99-duration"}, unproven


def test_a_stopped_trigger_pages_within_the_freshness_budget(
        deployed: tuple[dict[str, Any], dict[str, Any], Stack]) -> None:
    """The runbook's first question at 3 a.m.: a disabled mapping sends no IteratorAge, so the
    iterator-age alarm stays OK (notBreaching); the freshness fast burn pages instead, long before
    the month's error budget (1% of 30 days) is spent."""
    metric, composite, stack = deployed
    fired = run(trigger_stopped, metric, composite, stack)
    assert "publisher-iterator-age" not in fired
    budget_minutes = SLO["slos"]["freshness"]["error_budget"] * SLO["period_days"] * 24 * 60
    assert fired["freshness-fast-burn"] <= 0.05 * budget_minutes
    assert SLO["tiers"]["fast"]["severity"] == "page"
