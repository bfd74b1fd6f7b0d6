"""Read Lambda: function URL requests (payload 2.0 shape, signed by CloudFront) in, JSON answers out."""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import time
from functools import lru_cache
from typing import Any

from publisher.core import aws
from publisher.core.config import METRICS_NAMESPACE, Config
from publisher.read.api import ReadApi
from publisher.read.catalogue import SOURCE_DYNAMODB
from publisher.read.http import Request, Response, internal_error
from publisher.read.source import SnapshotSource

# Stdlib logging, not Powertools: with the function's JSON log format Lambda already writes each
# record (and its `extra`) as JSON, and Powertools' Logger+Metrics add ~30 ms to every cold start.
log = logging.getLogger("publisher.read")
SERVICE = "read-api"
ENV_METRICS_DISABLED = "POWERTOOLS_METRICS_DISABLED"


@lru_cache(maxsize=1)
def api() -> ReadApi:
    from publisher.read import openapi

    cfg = Config.from_env()
    source = SnapshotSource(
        s3=lambda: aws.client("s3"),
        dynamodb=lambda: aws.client("dynamodb"),
        bucket=cfg.site_bucket,
        table=cfg.table_name,
        revalidate_seconds=cfg.revalidate_seconds,
    )
    return ReadApi(source, openapi.document_bytes, cfg.history_retention_days)


def reset() -> None:
    """Forget the cached snapshot, config and clients (tests change the environment between cases)."""
    api.cache_clear()
    aws.reset_clients()


def request_from_event(event: dict[str, Any]) -> Request:
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    headers = event.get("headers") or {}
    return Request(
        method=str(http.get("method") or "GET").upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        # The raw string, not queryStringParameters: function URLs join repeated keys with commas there.
        raw_query=str(event.get("rawQueryString") or ""),
        headers={str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
    )


def to_http_response(response: Response) -> dict[str, Any]:
    try:
        return {"statusCode": response.status, "headers": response.headers,
                "body": response.body.decode(), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"statusCode": response.status, "headers": response.headers,
                "body": base64.b64encode(response.body).decode(), "isBase64Encoded": True}


def _metrics_enabled() -> bool:
    """In Lambda unless disabled; elsewhere only when enabled outright, as the local stack does (its
    tap keeps the lines off the console: publisher/local/metrics_tap.py)."""
    setting = os.environ.get(ENV_METRICS_DISABLED, "").lower()
    return setting == "false" or (bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and setting != "true")


def emit_metrics(source: str | None) -> None:
    """One CloudWatch Embedded Metric Format line when an answer came from the DynamoDB fallback
    (the snapshot could not be read). Requests, errors and latency are the function URL's and
    Lambda's own metrics, which cost nothing; a custom metric is billed for each hour it gets a
    data point, so this one costs only in the hours the fallback runs."""
    if source != SOURCE_DYNAMODB:
        return
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["service"]],
                "Metrics": [{"Name": "FallbackAnswers", "Unit": "Count"}],
            }],
        },
        "service": SERVICE,
        "FallbackAnswers": 1,
    }
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    method = path = "?"
    try:
        request = request_from_event(event if isinstance(event, dict) else {})
        method, path = request.method, request.path
        response = api().handle(request)
    except Exception:
        # The core turns every bad input into a 4xx; anything here is our bug or an outage.
        log.exception("unhandled error", extra={"method": method, "path": path[:256]})
        response = internal_error()
    duration_ms = (time.perf_counter() - started) * 1000
    if log.isEnabledFor(logging.INFO):
        log.info("request", extra={"method": method, "path": path[:256], "status": response.status,
                                   "duration_ms": round(duration_ms, 3), "source": response.source})
    if _metrics_enabled():
        emit_metrics(response.source)
    return to_http_response(response)
