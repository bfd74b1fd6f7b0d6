"""`python -m publisher rebuild`: a full scan and republish, in this process or by invoking the deployed function."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Any

REBUILD_REQUEST = {"action": "rebuild"}
# Lambda's own ceiling on a function's timeout: the wait when the configured one cannot be read.
LAMBDA_MAX_TIMEOUT_SECONDS = 900
# Time beyond the function's timeout to wait for its answer: a cold start, the network, the queue.
INVOKE_MARGIN_SECONDS = 30
# Exit status of a rebuild refused because publishing is paused.
PAUSED = 3


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--function (the deployed publisher) or --endpoint (run here against an emulator), shared by ops commands."""
    from publisher.local.stack import LOCAL_BUCKET

    where = parser.add_mutually_exclusive_group()
    where.add_argument("--function", help="invoke this deployed publisher function instead of running here")
    where.add_argument("--endpoint", default="http://127.0.0.1:4566",
                       help="AWS endpoint for a run in this process (the emulator); '' for real AWS")
    parser.add_argument("--table", default="llm_scores")
    parser.add_argument("--bucket", default=LOCAL_BUCKET)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("rebuild", help="full scan and republish (ops rebuild)")
    add_target_arguments(parser)
    parser.add_argument("--reason", default="ops")
    parser.add_argument("--while-paused", action="store_true",
                        help="rebuild even though publishing is paused (it publishes the table, undoing a restore)")
    parser.set_defaults(func=main)


def invoke_read_timeout(function_timeout: int) -> int:
    """How long to wait for a synchronous invoke: longer than the function may run, or the SDK gives up
    (botocore's default read timeout is 60 s) while the rebuild is still running."""
    return function_timeout + INVOKE_MARGIN_SECONDS


def lambda_client(read_timeout: float) -> Any:
    """A Lambda client that never retries: a retried Invoke is a second rebuild, not a second look."""
    import botocore.session
    from botocore.config import Config

    config = Config(read_timeout=read_timeout, connect_timeout=10, tcp_keepalive=True,
                    retries={"total_max_attempts": 1})
    return botocore.session.get_session().create_client("lambda", config=config)


def function_timeout(function: str) -> int:
    """The function's configured timeout, or Lambda's maximum when it cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return int(lambda_client(30).get_function_configuration(FunctionName=function)["Timeout"])
    except (ClientError, BotoCoreError, KeyError, ValueError):
        return LAMBDA_MAX_TIMEOUT_SECONDS


def call(function: str, payload: dict[str, Any]) -> tuple[int, str]:
    """Invoke the deployed publisher once, synchronously: (0 on success, its answer)."""
    from botocore.exceptions import HTTPClientError

    what = str(payload.get("action", "invoke"))
    wait = invoke_read_timeout(function_timeout(function))
    try:
        response = lambda_client(wait).invoke(FunctionName=function, InvocationType="RequestResponse",
                                              Payload=json.dumps(payload).encode())
    except HTTPClientError as exc:  # a read timeout or a dropped connection: the invoke may have started
        print(f"{what}: no complete answer from {function} within {wait} s ({type(exc).__name__}); it may "
              f"still be running. Check its log group for the '{what}' line before starting another.",
              file=sys.stderr)
        return 2, ""
    answer = response["Payload"].read().decode()
    if response.get("FunctionError"):
        print(answer)
        print(f"{what} failed in {function}: {response['FunctionError']}", file=sys.stderr)
        return 1, answer
    return 0, answer


def invoke(function: str, payload: dict[str, Any]) -> int:
    """Invoke the deployed publisher once, synchronously, and print its answer. 0 on success."""
    code, answer = call(function, payload)
    if code == 0:
        print(answer)
    return code


def run_here(endpoint: str, table: str, bucket: str, reason: str) -> dict[str, Any]:
    """The publisher handler's rebuild in this process, against `endpoint` ('' for real AWS)."""
    return run_event(endpoint, table, bucket, {**REBUILD_REQUEST, "reason": reason})


def run_event(endpoint: str, table: str, bucket: str, event: dict[str, Any]) -> dict[str, Any]:
    """The publisher handler run on `event` in this process, against `endpoint` ('' for real AWS)."""
    from publisher.core.config import ENV_SITE_BUCKET, ENV_TABLE_NAME
    from publisher.local.emulator import local_aws_env
    from publisher.local.lambda_shapes import LambdaContext

    if endpoint:
        os.environ.update(local_aws_env(endpoint))
    # A rebuild that repairs nothing emits no metric, and Powertools warns about that on stderr.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # Before the handler's import: its logger takes the level when it is built.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from publisher.publish import handler as publish

    os.environ[ENV_TABLE_NAME] = table
    os.environ[ENV_SITE_BUCKET] = bucket
    publish.reset()
    return dict(publish.handler(event, LambdaContext()))


def rebuild(args: argparse.Namespace, reason: str) -> int:
    """Rebuild where the target arguments say; 0 on success, 3 when publishing is paused (a DLQ redrive
    is a rebuild too) unless args.while_paused."""
    from publisher.ops import trigger

    if not getattr(args, "while_paused", False) and (args.function or args.endpoint):
        states = trigger.paths(args)
        if not any(s.publishing for s in states):
            # A pause holds a restore in place; a rebuild publishes the table over it.
            print(trigger.describe(states), file=sys.stderr)
            print(f"{reason}: refused: publishing is paused, and a rebuild would publish the table now (undoing "
                  "a restore). Resume with `trigger enable` (it rebuilds), or pass --while-paused.", file=sys.stderr)
            return PAUSED
    if args.function:
        return invoke(args.function, {**REBUILD_REQUEST, "reason": reason})
    print(json.dumps(run_here(args.endpoint, args.table, args.bucket, reason)))
    return 0


def main(args: argparse.Namespace) -> int:
    return rebuild(args, args.reason)
