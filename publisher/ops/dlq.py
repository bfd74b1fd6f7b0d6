"""`python -m publisher dlq`: read the publisher's dead-letter queue, name what it holds, and redrive it.

The queue receives two shapes. The stream trigger's on-failure records carry metadata only (shard and
sequence range, the condition: RetryAttemptsExhausted or RecordAgeExceeded), never the items; the
records themselves stay readable in the stream for 24 hours. Failed asynchronous invocations (the
scheduled reconcile) carry the event itself, with RequestID, ErrorCode and ErrorMessage attributes.
Both are redriven the same way: the table is the source of truth, so one rebuild republishes every
item they stood for; then the messages are deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from publisher.core.aws import error_code
from publisher.ops.rebuild import REBUILD_REQUEST, add_target_arguments, rebuild

STREAM_BATCH = "stream-batch"
FAILED_INVOCATION = "failed-invocation"
UNKNOWN = "unknown"
LISTING_VISIBILITY_SECONDS = 60
REDRIVE_VISIBILITY_SECONDS = 900  # hidden from other readers while the rebuild runs


@dataclass
class DeadLetter:
    message_id: str
    receipt_handle: str
    kind: str
    details: dict[str, Any]
    keys: list[dict[str, str]] = field(default_factory=list)
    note: str = ""


def classify(body: str, attributes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(kind, details) of one DLQ message body and its message attributes."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("DDBStreamBatchInfo"), dict):
        info = document["DDBStreamBatchInfo"]
        context = document.get("requestContext") or {}
        return STREAM_BATCH, {
            "condition": context.get("condition"), "invocations": context.get("approximateInvokeCount"),
            "shard": info.get("shardId"), "stream": info.get("streamArn"), "batch_size": info.get("batchSize"),
            "first_sequence": info.get("startSequenceNumber"), "last_sequence": info.get("endSequenceNumber"),
            "first_arrival": info.get("approximateArrivalOfFirstRecord"), "at": document.get("timestamp")}
    names = {name: value.get("StringValue") for name, value in (attributes or {}).items()}
    if "RequestID" in names or "ErrorCode" in names:
        event = document if isinstance(document, dict) else {}
        return FAILED_INVOCATION, {
            "request_id": names.get("RequestID"), "error_code": names.get("ErrorCode"),
            "error_message": (names.get("ErrorMessage") or "")[:300],
            "rebuild": event.get("action") == REBUILD_REQUEST["action"]}
    return UNKNOWN, {"body": body[:200]}


def stream_keys(streams: Any, details: dict[str, Any]) -> tuple[list[dict[str, str]], str]:
    """The keys and sequence numbers of a parked batch, read back from the stream while it keeps them."""
    from botocore.exceptions import ClientError

    first, last = int(details["first_sequence"]), int(details["last_sequence"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=details["stream"], ShardId=details["shard"], ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=details["first_sequence"])["ShardIterator"]
        keys: list[dict[str, str]] = []
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in response.get("Records", []):
                sequence = record["dynamodb"]["SequenceNumber"]
                if int(sequence) > last:
                    return keys, ""
                if int(sequence) >= first:
                    key = record["dynamodb"].get("Keys", {}).get("model_name", {}).get("S", "?")
                    keys.append({"key": key, "sequence": sequence, "event": record.get("eventName", "?")})
            if not response.get("Records"):
                break
            iterator = response.get("NextShardIterator")
        return keys, ""
    except ClientError as exc:
        return [], f"records no longer readable from the stream ({error_code(exc)}; it keeps them 24 h)"


def receive(sqs: Any, queue_url: str, limit: int, visibility: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < limit:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(10, limit - len(messages)),
                                    VisibilityTimeout=visibility, WaitTimeSeconds=0,
                                    MessageAttributeNames=["All"], AttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        messages += batch
    return messages


def release(sqs: Any, queue_url: str, letters: list[DeadLetter]) -> None:
    """Make messages this run leaves in the queue visible again at once, not after the redrive's hold."""
    for letter in letters:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0)


def describe(letter: DeadLetter) -> str:
    d = letter.details
    if letter.kind == STREAM_BATCH:
        head = (f"stream batch: {d['batch_size']} record(s), sequences {d['first_sequence']}..{d['last_sequence']} "
                f"of {d['shard']}, {d['condition']} after {d['invocations']} invocation(s), first arrived "
                f"{d['first_arrival']}")
        keys = ", ".join(f"{k['key']} ({k['event']} {k['sequence']})" for k in letter.keys)
        return f"{head}\n    keys: {keys or letter.note or 'none in that range'}"
    if letter.kind == FAILED_INVOCATION:
        what = "the reconcile rebuild" if d["rebuild"] else "an asynchronous event"
        return (f"failed invocation {d['request_id']} of {what}: error {d['error_code']}: {d['error_message']}")
    return f"unrecognised message {letter.message_id}, left in the queue: {d['body']!r}"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("dlq", help="list the dead-letter queue with the keys it stands for; --redrive it")
    parser.add_argument("--queue-url", help="the queue (terraform output dlq_url); default the local stack's")
    parser.add_argument("--redrive", action="store_true",
                        help="run one rebuild (where --function/--endpoint say), then delete what it repaired")
    parser.add_argument("--max-messages", type=int, default=100)
    add_target_arguments(parser)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import boto3

    if args.endpoint and not args.function:
        from publisher.local.emulator import local_aws_env

        os.environ.update(local_aws_env(args.endpoint))
    sqs, streams = boto3.client("sqs"), boto3.client("dynamodbstreams")
    queue_url = args.queue_url
    if not queue_url:
        from publisher.local.resources import LOCAL_DLQ_NAME

        queue_url = sqs.get_queue_url(QueueName=LOCAL_DLQ_NAME)["QueueUrl"]
    visibility = REDRIVE_VISIBILITY_SECONDS if args.redrive else LISTING_VISIBILITY_SECONDS
    letters = []
    for message in receive(sqs, queue_url, args.max_messages, visibility):
        kind, details = classify(message.get("Body", ""), message.get("MessageAttributes", {}))
        letter = DeadLetter(message["MessageId"], message["ReceiptHandle"], kind, details)
        if kind == STREAM_BATCH:
            letter.keys, letter.note = stream_keys(streams, details)
        letters.append(letter)
        print(describe(letter))
    handled = [letter for letter in letters if letter.kind != UNKNOWN]
    if not args.redrive or not handled:
        release(sqs, queue_url, letters)  # listing only: leave every message visible for the next reader
        print(f"{len(letters)} message(s) in {queue_url}" + ("" if args.redrive else "; --redrive to repair"))
        return 0
    status = rebuild(args, reason="dlq-redrive")
    if status != 0:
        release(sqs, queue_url, letters)
        print("dlq: the rebuild failed; the messages stay in the queue", file=sys.stderr)
        return status
    release(sqs, queue_url, [letter for letter in letters if letter.kind == UNKNOWN])
    for start in range(0, len(handled), 10):
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": letter.receipt_handle}
            for i, letter in enumerate(handled[start:start + 10])])
    print(f"dlq: rebuilt from the table and deleted {len(handled)} message(s); "
          f"{len(letters) - len(handled)} left in the queue")
    return 0
