"""`python -m publisher`: run the local stack; operate it or the deployed one (rebuild, canary, dlq, ...)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from publisher.local.stack import StackOptions, run

    return run(StackOptions(
        host=args.host, emulator_port=args.emulator_port, edge_port=args.edge_port,
        table=args.table, bucket=args.bucket, seed=not args.no_seed,
        batch_size=args.batch_size, window=args.window, edge_ttl=args.edge_ttl,
        max_record_age=args.max_record_age, state_dir=Path(args.state_dir),
    ))


def main(argv: list[str] | None = None) -> int:
    from publisher.local.stack import DEFAULT_EDGE_PORT, LOCAL_BUCKET

    parser = argparse.ArgumentParser(prog="python -m publisher", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the whole stack locally on the embedded emulator")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--emulator-port", type=int, default=4566)
    run.add_argument("--edge-port", type=int, default=DEFAULT_EDGE_PORT)
    run.add_argument("--table", default="llm_scores")
    run.add_argument("--bucket", default=LOCAL_BUCKET)
    run.add_argument("--no-seed", action="store_true", help="do not write the sample models")
    run.add_argument("--batch-size", type=int, default=None,
                     help="stream batch size (default: stream_batch_size in infra/variables.tf)")
    run.add_argument("--window", type=float, default=None,
                     help="batching window in seconds (default: stream_batching_window_seconds in infra/variables.tf)")
    run.add_argument("--edge-ttl", type=float, default=0.5, help="seconds the edge caches an object")
    run.add_argument("--max-record-age", type=float, default=None, metavar="SECONDS",
                     help="records older than this go to the dead-letter queue unapplied, as the trigger's "
                          "(default: stream_max_record_age_seconds in infra/variables.tf)")
    run.add_argument("--state-dir", default=".local", help="where the emulator's log is kept")
    run.set_defaults(func=_run)

    from publisher.ops import canary, dlq, rebuild, restore, trigger

    for module in (rebuild, canary, dlq, restore, trigger):
        module.add_parser(sub)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
