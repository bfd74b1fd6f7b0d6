"""`python -m publisher`: run the local stack, or trigger a rebuild locally or in AWS."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from publisher.local.stack import StackOptions, run

    return run(StackOptions(
        host=args.host, emulator_port=args.emulator_port, edge_port=args.edge_port,
        table=args.table, bucket=args.bucket, seed=not args.no_seed,
        batch_size=args.batch_size, window=args.window, edge_ttl=args.edge_ttl,
        state_dir=Path(args.state_dir),
    ))


def _rebuild(args: argparse.Namespace) -> int:
    payload = {"action": "rebuild", "reason": args.reason}
    if args.function:
        # Deployed: invoke the publisher function synchronously and print what it did.
        import boto3

        response = boto3.client("lambda").invoke(
            FunctionName=args.function, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
        )
        body = response["Payload"].read().decode()
        print(body)
        if response.get("FunctionError"):
            print(f"rebuild failed in {args.function}: {response['FunctionError']}", file=sys.stderr)
            return 1
        return 0
    import os

    from publisher.config import ENV_SITE_BUCKET, ENV_TABLE_NAME
    from publisher.handlers import publish
    from publisher.local.emulator import local_aws_env
    from publisher.local.poller import LambdaContext

    if args.endpoint:
        os.environ.update(local_aws_env(args.endpoint))
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ[ENV_TABLE_NAME] = args.table
    os.environ[ENV_SITE_BUCKET] = args.bucket
    publish.reset()
    print(json.dumps(publish.handler(payload, LambdaContext())))
    return 0


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
    run.add_argument("--state-dir", default=".local", help="emulator log and local DLQ file")
    run.set_defaults(func=_run)

    rebuild = sub.add_parser("rebuild", help="full scan and republish (ops rebuild)")
    where = rebuild.add_mutually_exclusive_group()
    where.add_argument("--function", help="invoke this deployed publisher function instead of running here")
    where.add_argument("--endpoint", default="http://127.0.0.1:4566",
                       help="AWS endpoint for a local run (the emulator); '' for real AWS")
    rebuild.add_argument("--table", default="llm_scores")
    rebuild.add_argument("--bucket", default=LOCAL_BUCKET)
    rebuild.add_argument("--reason", default="ops")
    rebuild.set_defaults(func=_rebuild)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
