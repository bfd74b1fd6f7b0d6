"""`python -m publisher restore --version N`: publish version N's catalogue again, as a new version.

The publisher does the work (publisher/publish/restore.py: version N rebuilt from the version log,
published through its committed path, provider documents N did not have removed), invoked with
{"action": "restore"} when deployed (--function) or run in this process against the emulator
(--endpoint). It refuses while any path still publishes (`trigger disable` first): the next
reconcile would publish the table over the restore.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

RESTORE_ACTION = "restore"
REFUSED = 3


def add_parser(sub: Any) -> None:
    from publisher.ops.rebuild import add_target_arguments

    parser = sub.add_parser("restore", help="publish snapshot version N's catalogue again (from the version log)")
    parser.add_argument("--version", type=int, required=True, help="the snapshot version to put back")
    parser.add_argument("--dry-run", action="store_true", help="say what it would do, write nothing")
    parser.add_argument("--even-if-publishing", action="store_true",
                        help="restore although publishing is not paused (the next publish may undo it)")
    parser.add_argument("--name", help="the stack's name, to find its schedules (see `trigger --help`)")
    parser.add_argument("--table-plan", type=Path, metavar="FILE",
                        help="also write version N's records the table lacks to FILE (for scripts/seed_data.py "
                             "--file) and list the keys to delete: what the table must hold before resuming")
    # --function (deployed: real AWS) or --endpoint (local), as for every ops command.
    add_target_arguments(parser)
    parser.set_defaults(func=main)


def _names(entry: dict[str, Any]) -> str:
    shown = ", ".join(entry["names"])
    more = entry["count"] - len(entry["names"])
    return shown + (f" and {more} more" if more > 0 else "")


def summary(answer: dict[str, Any]) -> str:
    """The report in words: from/to versions, the models it put back, the keys written and removed."""
    target, old, new = answer["restored_version"], answer["from_version"], answer["to_version"]
    if answer["nothing_to_do"]:
        return (f"restore: nothing to do: the site already shows version {target}'s catalogue "
                f"(as version {old}); no object written or removed")
    would = "would be " if answer["dry_run"] else ""
    if new == old:
        head = f"restore: the catalogue already equals version {target}'s (version {old})"
    elif answer["dry_run"]:
        head = f"restore (dry run): would publish version {target}'s catalogue as version {new} (now version {old})"
    else:
        head = f"restore: version {target}'s catalogue published as version {new} (was version {old})"
    lines = [head]
    for kind in ("added", "removed", "changed"):
        entry = answer[f"models_{kind}"]
        if entry["count"]:
            lines.append(f"  models {kind} back: {entry['count']} ({_names(entry)})")
    if answer["keys_written"]:
        lines.append(f"  keys {would}written: {', '.join(answer['keys_written'])}")
    if answer["keys_removed"]:
        lines.append(f"  keys {would}removed (version {target} did not have them): "
                     f"{', '.join(answer['keys_removed'])}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from publisher.ops import rebuild, trigger

    states = trigger.paths(args)
    publishing = [s for s in states if s.publishing]
    if publishing and not args.dry_run:
        print(trigger.describe(states), file=sys.stderr)
        if not args.even_if_publishing:
            print("restore: refused: publishing is not paused, so the next publish would undo the restore. "
                  "Run `python -m publisher trigger disable` first (or pass --even-if-publishing).", file=sys.stderr)
            return REFUSED
        print("restore: WARNING: publishing is not paused; the next publish may undo this restore", file=sys.stderr)
    event = {"action": RESTORE_ACTION, "version": args.version, "dry_run": args.dry_run}
    if args.function:
        code, text = rebuild.call(args.function, event)
        if code:
            return code
        answer = json.loads(text)
    else:
        answer = rebuild.run_event(args.endpoint, args.table, args.bucket, event)
    if "error" in answer:
        print(f"restore: refused: {answer['error']}", file=sys.stderr)
        return 1
    print(summary(answer))
    if args.table_plan:
        print(table_plan(args))
    if not args.dry_run and not answer["nothing_to_do"]:
        print("Publishing stays paused. Make the table hold what should be published (the runbook), then "
              "`python -m publisher trigger enable`: it resumes every path and rebuilds from the table.")
    return 0


def table_plan(args: argparse.Namespace) -> str:
    """The table plan, read with this process's credentials (the emulator's with --endpoint)."""
    import boto3

    from publisher.local.stack import LOCAL_BUCKET
    from publisher.ops import table_plan as tables

    if args.function and args.bucket == LOCAL_BUCKET:
        return "restore: --table-plan needs the deployed bucket: pass --bucket (terraform output site_bucket)"
    found = tables.plan(boto3.client("s3"), boto3.client("dynamodb"), args.bucket, args.table, args.version)
    return tables.write(found, args.table_plan, args.table, args.version)
