"""`python -m publisher trigger disable|enable|status`: every path that publishes, paused and resumed together.

Three paths publish: the stream trigger (the publisher's event source mapping), the scheduled
reconcile (a full rebuild every hour) and the canary's schedule (its heartbeat goes through the table
and the stream, and a heartbeat-only publish rewrites a site it finds behind). `disable` stops all
three, `enable` starts them again and then runs one rebuild, so the site equals the table (the
source of truth) at once instead of at the next reconcile. Deployed, they are found by the names
infra/ gives them (`<name>-publisher`'s mapping, `<name>-reconcile`, `<name>-canary`); the local
stack runs only the stream trigger (a flag in the emulator it reads once a second).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# infra/main.tf: publisher_name = "${var.name}-publisher"; the schedules of publisher.tf and canary.tf.
PUBLISHER_SUFFIX = "-publisher"
SCHEDULE_SUFFIXES = {"reconcile schedule": "-reconcile", "canary schedule": "-canary"}
SETTLE_SECONDS = 120
WANTED = {"enable": "Enabled", "disable": "Disabled"}
# A path in one of these states publishes (or is about to): anything else counts as paused.
RUNNING = frozenset({"Enabled", "Enabling", "Updating", "Creating", "ENABLED", "Unknown", "unknown"})
ABSENT = "absent"


@dataclass(frozen=True)
class PathState:
    path: str  # "stream trigger", "reconcile schedule", "canary schedule"
    where: str  # the mapping's UUID and stream, the schedule's name, or the local stack
    state: str

    @property
    def publishing(self) -> bool:
        return self.state in RUNNING

    def line(self) -> str:
        return f"{self.path} ({self.where}): {self.state}"


def add_parser(sub: Any) -> None:
    from publisher.ops.rebuild import add_target_arguments

    parser = sub.add_parser("trigger", help="pause (disable), resume (enable) or show every path that publishes")
    parser.add_argument("state", choices=("enable", "disable", "status"))
    parser.add_argument("--name", help="the stack's name (infra/ var.name); by default the function's name "
                        f"without {PUBLISHER_SUFFIX!r}")
    parser.add_argument("--no-rebuild", action="store_true",
                        help="enable without the rebuild that makes the site equal the table at once")
    add_target_arguments(parser)
    parser.set_defaults(func=main)


def stream_mappings(lam: Any, function: str) -> list[dict[str, Any]]:
    """The function's DynamoDB stream event source mappings."""
    # Listed by the function's ARN, as infra/ attaches them: an emulator matches the name as given.
    try:
        arn = lam.get_function_configuration(FunctionName=function)["FunctionArn"]
    except lam.exceptions.ResourceNotFoundException:
        raise SystemExit(f"no function {function!r} here: --function takes the publisher "
                         "(terraform -chdir=infra output -raw publisher_function)") from None
    mappings: list[dict[str, Any]] = []
    for page in lam.get_paginator("list_event_source_mappings").paginate(FunctionName=arn):
        mappings += [m for m in page["EventSourceMappings"] if ":dynamodb:" in m.get("EventSourceArn", "")]
    return mappings


def settle(read: Callable[[], str], wanted: str, timeout: float = SETTLE_SECONDS) -> str:
    """Wait until a path reports the state asked for (a mapping passes through Enabling/Disabling)."""
    deadline = time.monotonic() + timeout
    state = read()
    while state != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
        state = read()
    return state


def stack_name(function: str, name: str | None) -> str | None:
    """The stack's name (infra/ var.name), given or read from the publisher's; None when it cannot be told."""
    if name:
        return name
    bare = function.rsplit(":", 1)[-1]
    return bare.removesuffix(PUBLISHER_SUFFIX) if bare.endswith(PUBLISHER_SUFFIX) else None


def _schedule_update(scheduler: Any, current: dict[str, Any], state: str) -> None:
    """UpdateSchedule replaces the whole schedule: send back every field it takes, the state changed."""
    accepted = scheduler.meta.service_model.operation_model("UpdateSchedule").input_shape.members
    kept = {k: v for k, v in current.items() if k in accepted and k not in ("ClientToken", "State")}
    scheduler.update_schedule(**kept, State=state)


def _schedule(scheduler: Any, path: str, name: str, wanted: str | None) -> PathState:
    try:
        current = scheduler.get_schedule(Name=name)
    except scheduler.exceptions.ResourceNotFoundException:
        return PathState(path, name, ABSENT)
    if wanted is not None and current["State"] != wanted.upper():
        _schedule_update(scheduler, current, wanted.upper())
        current = scheduler.get_schedule(Name=name)
    return PathState(path, name, current["State"])


def deployed(function: str, name: str | None, wanted: str | None) -> list[PathState]:
    """Each deployed path's state, after setting it to `wanted` ("Enabled"/"Disabled") when given."""
    import boto3

    lam, scheduler = boto3.client("lambda"), boto3.client("scheduler")
    states = []
    mappings = stream_mappings(lam, function)
    for mapping in mappings:
        uuid, current = mapping["UUID"], mapping["State"]
        if wanted is not None and current != wanted:
            lam.update_event_source_mapping(UUID=uuid, Enabled=wanted == "Enabled")
            current = settle(lambda uuid=uuid: lam.get_event_source_mapping(UUID=uuid)["State"], wanted)
        states.append(PathState("stream trigger", f"{uuid} on {mapping['EventSourceArn']}", current))
    if not mappings:
        states.append(PathState("stream trigger", function, ABSENT))
    stack = stack_name(function, name)
    if stack is None:
        return [*states, *(PathState(path, f"not found: the stack's name is not {function!r} without "
                                     f"{PUBLISHER_SUFFIX!r}; pass --name", "unknown") for path in SCHEDULE_SUFFIXES)]
    return [*states, *(_schedule(scheduler, path, stack + suffix, wanted)
                       for path, suffix in SCHEDULE_SUFFIXES.items())]


def local(endpoint: str, wanted: str | None) -> list[PathState]:
    """The local stack's paths: its stream trigger (the only one it runs) and the schedules it has not."""
    from publisher.core import aws
    from publisher.local.emulator import local_aws_env
    from publisher.local.resources import set_trigger, trigger_state

    os.environ.update(local_aws_env(endpoint))
    aws.reset_clients()
    ssm = aws.client("ssm")
    current = trigger_state(ssm)
    if wanted is not None and current != wanted:
        set_trigger(ssm, enabled=wanted == "Enabled")
        # The running trigger reads the flag once a second and reports what it applied.
        current = settle(lambda: trigger_state(ssm), wanted, timeout=15)
    return [PathState("stream trigger", f"local stack at {endpoint}", current),
            *(PathState(path, "the local stack runs none", ABSENT) for path in SCHEDULE_SUFFIXES)]


def paths(args: argparse.Namespace, wanted: str | None = None) -> list[PathState]:
    """Every path that publishes where the target arguments say, set to `wanted` first when given."""
    if args.function:
        return deployed(args.function, getattr(args, "name", None), wanted)
    if args.endpoint:
        return local(args.endpoint, wanted)
    # In this process against real AWS: without --function the paths cannot be found.
    return [PathState("publishing paths", "unknown without --function", "unknown")]


def describe(states: list[PathState]) -> str:
    publishing = [s for s in states if s.publishing]
    present = [s for s in states if s.state != ABSENT]
    verdict = ("paused: nothing publishes until `trigger enable`" if not publishing
               else "ON" if len(publishing) == len(present) else
               f"partly paused ({', '.join(s.path for s in publishing)} still publishing)")
    return "\n".join([*(s.line() for s in states), f"publishing: {verdict}"])


def main(args: argparse.Namespace) -> int:
    from publisher.ops import rebuild

    wanted = WANTED.get(args.state)
    states = paths(args, wanted)
    print(describe(states))
    if wanted is None:
        return 0
    failed = [s for s in states if s.state != ABSENT and s.state.casefold() != wanted.casefold()]
    if failed:
        print(f"trigger: not {wanted}: {', '.join(s.line() for s in failed)}", file=sys.stderr)
        return 1
    if args.state == "enable" and not args.no_rebuild:
        # Whatever the pause held back (a restore, writes past the trigger's record age) is published now.
        print("resumed; rebuilding so the site equals the table:", flush=True)
        return rebuild.rebuild(args, "resume")
    return 0
