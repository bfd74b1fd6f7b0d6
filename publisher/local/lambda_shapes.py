"""Stream records and failure records in the shapes Lambda's DynamoDB Streams trigger uses."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda delivers it (epoch seconds, eventSourceARN)."""
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", "us-east-1"),
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }


def _arrival(record: dict[str, Any]) -> str:
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    moment = datetime.fromtimestamp(float(created), UTC) if created is not None else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def on_failure_record(records: list[dict[str, Any]], condition: str, invoke_count: int, shard_id: str,
                      stream_arn: str, function_arn: str) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's on-failure destination: metadata, never the records.
    https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html"""
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": invoke_count},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": min(sequences, key=int),
            "endSequenceNumber": max(sequences, key=int),
            "approximateArrivalOfFirstRecord": _arrival(records[0]),
            "approximateArrivalOfLastRecord": _arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def payload_bytes(record: dict[str, Any]) -> int:
    """What a record adds to the invocation's payload: its JSON in UTF-8 bytes and a separator,
    counted with spaces after separators (an upper bound of however Lambda lays the event out)."""
    return len(json.dumps(record, ensure_ascii=False).encode()) + 2
