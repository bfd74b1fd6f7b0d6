"""The deterministic simulation in CI: a fixed set of seeds, every invariant after each (see tests/sim)."""

from __future__ import annotations

import pytest

from tests.sim.__main__ import command, violations

CI_SEEDS = range(200)


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_the_site_equals_the_table_after_any_fault(seed: int) -> None:
    settled, reconciled, _ = violations(seed)
    assert not settled, f"seed {seed}: {settled[:5]}\nreproduce: {command(seed)}"
    assert not reconciled, f"seed {seed}: {reconciled[:5]}\nreproduce: {command(seed)}"


def test_a_seed_replays_exactly() -> None:
    from tests.sim.world import run, simulated

    with simulated():
        first, again = run(7), run(7)
    assert first.events == again.events and first.seen == again.seen
    assert {k: o.body for k, o in first.s3.objects.items()} == {k: o.body for k, o in again.s3.objects.items()}
