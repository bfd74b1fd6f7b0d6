"""`python -m publisher canary` (`make canary`): one canary run against a running stack, locally or in AWS."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from publisher.canary.probe import HEALTH_PATH, Probe, ProbeResult, ProbeSettings
from publisher.core.slo import FRESHNESS_TARGET_SECONDS

DEFAULT_EDGE = "http://127.0.0.1:8000"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_STATE_FILE = ".local/canary-state.json"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("canary", help="write a heartbeat, time it to the edge, check the catalogue",
                            description=__doc__)
    parser.add_argument("--edge", default=DEFAULT_EDGE, help=f"the site's base URL (default {DEFAULT_EDGE})")
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                        help=f"AWS endpoint for the heartbeat write (default the emulator, {DEFAULT_ENDPOINT}); "
                             "'' for real AWS with your credentials")
    parser.add_argument("--table", default="llm_scores")
    parser.add_argument("--max-freshness", type=float, default=float(FRESHNESS_TARGET_SECONDS), metavar="SECONDS",
                        help=f"fail when the heartbeat takes longer to show (default the SLO's "
                             f"{FRESHNESS_TARGET_SECONDS} s)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="stop waiting for the heartbeat after this (default twice the SLO target, "
                             "or --max-freshness if that is longer)")
    parser.add_argument("--state-file", default=DEFAULT_STATE_FILE,
                        help="where the last version seen on this stack is kept between runs ('' for none)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=main)


def stack_identity(edge: str, dynamodb: Any, table: str) -> str:
    """Which stack a saved version belongs to: the edge and the table's creation time. A restarted
    `make run` is a new stack whose versions start again at 1, not a version going backward."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        created = dynamodb.describe_table(TableName=table)["Table"]["CreationDateTime"]
    except (BotoCoreError, ClientError, KeyError):
        return edge  # no permission to describe it: the edge alone
    return f"{edge} {created.isoformat() if hasattr(created, 'isoformat') else created}"


def read_last_version(path: Path | None, stack: str) -> int | None:
    """The highest version an earlier run saw on this same stack (None for another stack's file)."""
    if path is None or not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
        value = saved.get("last_version") if saved.get("stack") == stack else None
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def save_last_version(path: Path | None, stack: str, result: ProbeResult, previous: int | None) -> None:
    best = max([v for v in (result.version, previous) if v is not None], default=None)
    if path is None or best is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"stack": stack, "last_version": best, "run_id": result.run_id}) + "\n")


def main(args: argparse.Namespace) -> int:
    from publisher.canary.handler import url_fetch

    if args.max_freshness <= 0:
        print("canary: --max-freshness must be a positive number of seconds", file=sys.stderr)
        return 2
    if args.endpoint:
        from publisher.local.emulator import local_aws_env

        os.environ.update(local_aws_env(args.endpoint))
    from publisher.core import aws

    aws.reset_clients()
    dynamodb = aws.client("dynamodb")
    edge = args.edge.rstrip("/")
    state = Path(args.state_file) if args.state_file else None
    stack = stack_identity(edge, dynamodb, args.table)
    previous = read_last_version(state, stack)
    timeout = args.timeout if args.timeout is not None else max(2 * FRESHNESS_TARGET_SECONDS, args.max_freshness)
    settings = ProbeSettings(max_freshness=args.max_freshness, timeout=timeout)

    def put_heartbeat(item: dict[str, Any]) -> None:
        dynamodb.put_item(TableName=args.table, Item=item)

    result = Probe(settings, url_fetch(edge), put_heartbeat).run(last_version=previous)
    save_last_version(state, stack, result, previous)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        if result.freshness is not None:
            print(f"freshness {result.freshness:.3f} s (heartbeat {result.run_id} visible at {edge}{HEALTH_PATH}, "
                  f"published in the same commit as /llms.json, read as a browser reads it)")
        else:
            print(f"freshness unknown (heartbeat {result.run_id} never visible at {edge}{HEALTH_PATH})")
        for check in result.checks:
            print(f"  {'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    if result.ok:
        print("canary passed", file=sys.stderr)
        return 0
    reasons = "; ".join(f"{c.name}: {c.detail}" for c in result.failures)
    hint = " (--max-freshness)" if result.freshness is not None and result.freshness > args.max_freshness else ""
    print(f"canary FAILED: {reasons}{hint}", file=sys.stderr)
    return 1
