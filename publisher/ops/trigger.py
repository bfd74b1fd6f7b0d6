"""`python -m publisher trigger enable|disable|status`: the publisher's stream trigger, deployed or local."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("trigger", help="enable, disable or show the publisher's stream trigger")
    parser.add_argument("state", choices=("enable", "disable", "status"))
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--function", help="the deployed publisher function (its event source mapping)")
    where.add_argument("--endpoint", default="http://127.0.0.1:4566", help="the local stack's emulator")
    parser.set_defaults(func=main)


def stream_mappings(lam: Any, function: str) -> list[dict[str, Any]]:
    """The function's DynamoDB stream event source mappings."""
    mappings: list[dict[str, Any]] = []
    for page in lam.get_paginator("list_event_source_mappings").paginate(FunctionName=function):
        mappings += [m for m in page["EventSourceMappings"] if ":dynamodb:" in m.get("EventSourceArn", "")]
    return mappings


SETTLE_SECONDS = 120
WANTED = {"enable": "Enabled", "disable": "Disabled"}


def settle(read: Callable[[], str], wanted: str, timeout: float = SETTLE_SECONDS) -> str:
    """Wait until the trigger reports the state asked for (a mapping passes through Enabling/Disabling)."""
    deadline = time.monotonic() + timeout
    state = read()
    while state != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
        state = read()
    return state


def deployed(function: str, state: str) -> int:
    import boto3

    lam = boto3.client("lambda")
    mappings = stream_mappings(lam, function)
    if not mappings:
        print(f"trigger: {function} has no DynamoDB stream trigger", file=sys.stderr)
        return 1
    status = 0
    for mapping in mappings:
        uuid, current = mapping["UUID"], mapping["State"]
        if state != "status":
            lam.update_event_source_mapping(UUID=uuid, Enabled=state == "enable")
            current = settle(lambda uuid=uuid: lam.get_event_source_mapping(UUID=uuid)["State"], WANTED[state])
            status |= current != WANTED[state]
        print(f"trigger {uuid} on {mapping['EventSourceArn']}: {current}")
    return status


def local(endpoint: str, state: str) -> int:
    from publisher.core import aws
    from publisher.local.emulator import local_aws_env
    from publisher.local.resources import set_trigger, trigger_state

    os.environ.update(local_aws_env(endpoint))
    aws.reset_clients()
    ssm = aws.client("ssm")
    current = trigger_state(ssm)
    if state != "status":
        set_trigger(ssm, enabled=state == "enable")
        # The running trigger reads the flag once a second and reports what it applied.
        current = settle(lambda: trigger_state(ssm), WANTED[state], timeout=15)
    print(f"local trigger at {endpoint}: {current}")
    return 0 if state == "status" or current == WANTED[state] else 1


def main(args: argparse.Namespace) -> int:
    if args.function:
        return deployed(args.function, args.state)
    return local(args.endpoint, args.state)
