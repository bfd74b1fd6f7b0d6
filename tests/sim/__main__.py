"""`python -m tests.sim --seeds N [--first S]` or `--seed S -v`: run the simulation and report each failing seed."""

from __future__ import annotations

import argparse
import sys
import time

from tests.sim.invariants import check, check_after_reconcile
from tests.sim.world import run, simulated


def command(seed: int) -> str:
    """The one line that replays a seed."""
    return f".venv/bin/python -m tests.sim --seed {seed} -v"


def violations(seed: int) -> tuple[list[str], list[str], list[str]]:
    """The settled run's violations, those after a final reconcile, and the run's fault log."""
    with simulated():
        world = run(seed)
        settled = check(world)
        return settled, check_after_reconcile(world), world.events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sim", description=__doc__)
    parser.add_argument("--seeds", type=int, default=1000, help="how many seeds to run")
    parser.add_argument("--first", type=int, default=0, help="the first seed")
    parser.add_argument("--seed", type=int, help="run this one seed")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the run's faults and deliveries")
    args = parser.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else range(args.first, args.first + args.seeds)
    started = time.perf_counter()
    failed = 0
    for seed in seeds:
        settled, reconciled, events = violations(seed)
        if args.verbose:
            print("\n".join(events))
        if settled or reconciled:
            failed += 1
            print(f"seed {seed} FAILED: {(settled + reconciled)[:5]}\n  reproduce: {command(seed)}")
    print(f"{len(seeds) - failed} of {len(seeds)} seeds passed every invariant "
          f"({time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
