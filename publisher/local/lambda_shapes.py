"""What Lambda hands a function and takes back, locally: the context object, the stream trigger's records
and on-failure records, and a function URL's event and response (payload 2.0)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from publisher.local.edge_compression import origin_accept_encoding

PUBLISHER_FUNCTION = "llm-catalogue-publisher-local"
READ_FUNCTION = "llm-catalogue-read-api-local"
# What CloudFront sends the read function (infra/cdn.tf): the path and query string, its own
# headers and nothing of the viewer's (no origin request policy; the cache policy keys on query
# strings only). The function URL's host stands in for <url-id>.lambda-url.<region>.on.aws.
FUNCTION_URL_HOST = "local.lambda-url.us-east-1.on.aws"
CLOUDFRONT_USER_AGENT = "Amazon CloudFront"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


PUBLISHER_ARN = function_arn(PUBLISHER_FUNCTION)


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object a handler (and Powertools) may read. The defaults are
    the publisher's (its memory and timeout in infra/); the edge passes the read function's."""

    function_name: str = PUBLISHER_FUNCTION
    memory_limit_in_mb: int = 1024
    timeout_ms: int = 60_000
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name)

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


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


def function_url_event(method: str, raw_path: str, raw_query: str, viewer_ip: str,
                       accept_encoding: str | None = None) -> dict[str, Any]:
    """A Lambda function URL event (payload 2.0 shape) as the function receives it from CloudFront's OAC.

    Function URLs have no routes: routeKey is always "$default" and there are no pathParameters; the
    caller is the CloudFront service principal that signed the request (AWS_IAM auth).
    """
    joined: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        # Like API Gateway, function URLs join repeated keys with commas; rawQueryString keeps them apart.
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    now = datetime.now(UTC)
    request_id = uuid.uuid4().hex
    headers = {
        "host": FUNCTION_URL_HOST,
        "user-agent": CLOUDFRONT_USER_AGENT,
        "via": "2.0 local.cloudfront.net (CloudFront)",
        "x-amz-cf-id": request_id,
        "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{request_id[:24]}",
        "x-forwarded-for": viewer_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    normalised = origin_accept_encoding(accept_encoding)
    if normalised:
        headers["accept-encoding"] = normalised
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": FUNCTION_URL_HOST.split(".")[0],
            "authorizer": {"iam": {"accessKey": "ASIA0000000000000000", "accountId": "123456789012",
                                   "callerId": "AROA0000000000000000:cloudfront", "cognitoIdentity": None,
                                   "principalOrgId": None, "userArn": "cloudfront.amazonaws.com",
                                   "userId": "AROA0000000000000000:cloudfront"}},
            "domainName": FUNCTION_URL_HOST,
            "domainPrefix": FUNCTION_URL_HOST.split(".")[0],
            "http": {"method": method, "path": unquote(raw_path), "protocol": "HTTP/1.1",
                     "sourceIp": "130.176.0.1", "userAgent": CLOUDFRONT_USER_AGENT},
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if joined:
        event["queryStringParameters"] = joined
    return event


def decode_result(result: Any) -> tuple[int, dict[str, str], bytes]:
    """A payload 2.0 response back to status, headers and bytes (a bare value means 200 JSON)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    return int(result["statusCode"]), headers, raw
