"""Game day, short: each scenario of publisher/local/gameday.py with a few seconds of fault, on one stack.

The targets of `make gameday` hold here too: static documents answered through every outage, no
version going backward, no acknowledged write lost, recovery within the freshness SLO; and each fault
was real (the emulator refused calls, the API failed, the publisher raised) and raised its alarms.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from publisher.core.slo import FRESHNESS_TARGET_SECONDS
from publisher.local.gameday import SCENARIOS, GameDay, Timing
from tests.e2e.conftest import RunningStack, start_stack, stop_stack

# The writer keeps writing while the operator's redrive runs, as in `make gameday`: a rebuild racing
# the stream must not drop a write published between its scan and its commit. The origin outage
# starts once the read function's copy is the edge's version (`align_read_copy`): an outage begun
# within its revalidation interval of a publish lets the failover paths answer the version before
# (an open limit, SOLUTION section 17, that `make gameday` still measures).
SHORT = Timing(warmup=1.5, fault=6.0, settle=3.0, readers=8, write_interval=0.3, bulk_models=400,
               align_read_copy=True)
BY_NAME = {s.name: s for s in SCENARIOS}


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GameDay]:
    stack: RunningStack = start_stack(tmp_path_factory.mktemp("gameday"))
    try:
        game = GameDay(stack.edge, stack.endpoint, stack.log_path, SHORT, out=lambda line: None)
        game.prepare()
        yield game
    finally:
        stop_stack(stack)


def run(day: GameDay, name: str) -> dict[str, Any]:
    result = day.run_scenario(BY_NAME[name])
    assert result["static_read_ok_ratio"] >= 0.999, result["paths"]
    assert result["versions_backward"] == 0, result["paths"]
    assert result["acked_writes"] > 0
    assert result["lost_writes"] == 0, result["notes"]
    assert result["recovery_s"] is not None and result["recovery_s"] <= FRESHNESS_TARGET_SECONDS
    return result


def during_fault(result: dict[str, Any], kind: str) -> tuple[int, int]:
    rows = [r["during_fault"] for r in result["paths"] if r["kind"] == kind]
    return sum(ok for ok, _ in rows), sum(n for _, n in rows)


def test_a_control_plane_blackout_freezes_freshness_and_nothing_else(day: GameDay) -> None:
    result = run(day, "control-plane blackout")
    assert result["signals"]["dynamodb_refused"] > 0 and result["signals"]["writer_refused"] > 0
    ok, attempted = during_fault(result, "static")
    assert attempted and ok == attempted


def test_an_origin_outage_is_served_from_the_edge_and_the_read_functions_copies(day: GameDay) -> None:
    result = run(day, "origin outage")
    assert result["signals"]["s3_refused"] > 0
    ok, attempted = during_fault(result, "static")
    assert attempted and ok == attempted
    assert "publish-failures" in result["alarms"]


def test_a_read_function_outage_fails_only_the_api_and_raises_its_alarms(day: GameDay) -> None:
    result = run(day, "read function outage")
    ok, attempted = during_fault(result, "api")
    assert ok < attempted  # the fault was real
    assert {"api-availability-fast-burn", "read-throttles"} <= set(result["alarms"])


def test_a_publisher_crash_loop_during_a_bulk_seed_loses_no_write(day: GameDay) -> None:
    result = run(day, "publisher crash loop during bulk seed")
    assert result["acked_writes"] >= SHORT.bulk_models
    assert "publisher-errors" in result["alarms"]
    assert result["signals"]["publisher_errors"] > 0
