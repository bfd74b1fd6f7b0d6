"""A bulk seed as an operator's old script writes it (boto3's batch_writer), against `make run`'s stack.

The figures (write time, time to converge, publishes) are `make bench`'s (benchmarks/bench_bulk.py);
this checks the behaviour: everything shows, every history is there, the deletion converges, and
the burst is coalesced instead of published 100 records at a time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from publisher.core.identity import history_key

from .conftest import RunningStack, start_stack, stop_stack

pytestmark = pytest.mark.e2e
MODELS = 5_000
# Batches of 100 records, as the trigger had: the publishes a burst of MODELS writes would take.
OLD_PUBLISHES = MODELS // 100


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[RunningStack]:
    running = start_stack(tmp_path)
    try:
        yield running
    finally:
        stop_stack(running)


def table(stack: RunningStack) -> Any:
    import boto3

    return boto3.resource("dynamodb", endpoint_url=stack.endpoint, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x").Table(stack.table)


def shown(stack: RunningStack, names: set[str]) -> set[str]:
    return {m["model_name"] for m in stack.get_json("/llms.json")["models"]} & names


def test_a_bulk_seed_shows_whole_with_every_history_and_its_deletion_converges(stack: RunningStack) -> None:
    names = [f"Bulk E2E {i:05d}" for i in range(MODELS)]
    wanted = set(names)
    seeds = table(stack)
    first = stack.get_json("/llms.json")["version"]
    with seeds.batch_writer() as writer:
        for i, name in enumerate(names):
            writer.put_item(Item={"model_name": name, "provider": f"Bulk {i % 7}",
                                  "score": Decimal(str(40 + i % 60)), "context_window": 8192})
    stack.wait_for(lambda: shown(stack, wanted) == wanted, timeout=180, interval=0.5)
    added = stack.get_json("/llms.json")["version"]
    assert 1 <= added - first < OLD_PUBLISHES

    for name in random.Random(5).sample(names, 5):
        history = stack.get_json(f"/api/llms/{quote(name, safe='')}/history")
        assert (history["model_name"], [e["kind"] for e in history["events"]]) == (name, ["added"])
        assert stack.get_json(f"/{quote(history_key(name))}") == history

    with seeds.batch_writer() as writer:
        for name in names:
            writer.delete_item(Key={"model_name": name})
    stack.wait_for(lambda: not shown(stack, wanted), timeout=180, interval=0.5)
    assert stack.get_json("/llms.json")["version"] - added < OLD_PUBLISHES
    # A single write after the burst still shows.
    seeds.put_item(Item={"model_name": "After The Burst", "provider": "Solo", "score": Decimal("77")})
    stack.wait_for(lambda: shown(stack, {"After The Burst"}), timeout=30)
