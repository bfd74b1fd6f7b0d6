"""`python -m publisher trigger enable|disable|status`: the publisher's stream trigger, deployed or local."""

from __future__ import annotations

import argparse
import os
import sys
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


def deployed(function: str, state: str) -> int:
    import boto3

    lam = boto3.client("lambda")
    mappings = stream_mappings(lam, function)
    if not mappings:
        print(f"trigger: {function} has no DynamoDB stream trigger", file=sys.stderr)
        return 1
    for mapping in mappings:
        if state != "status":
            mapping = lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=state == "enable")
        # Enabling or disabling takes a few seconds ("Enabling" / "Disabling").
        print(f"trigger {mapping['UUID']} on {mapping['EventSourceArn']}: {mapping['State']}")
    return 0


def local(endpoint: str, state: str) -> int:
    from publisher import aws
    from publisher.local.emulator import local_aws_env
    from publisher.local.resources import set_trigger, trigger_enabled

    os.environ.update(local_aws_env(endpoint))
    aws.reset_clients()
    ssm = aws.client("ssm")
    if state != "status":
        set_trigger(ssm, enabled=state == "enable")
    # The local trigger reads the flag once a second, as a mapping takes a moment to change state.
    print(f"local trigger at {endpoint}: {'Enabled' if trigger_enabled(ssm) else 'Disabled'}")
    return 0


def main(args: argparse.Namespace) -> int:
    if args.function:
        return deployed(args.function, args.state)
    return local(args.endpoint, args.state)
