"""The read benchmarks' shared setup: table, bucket, credentials, a function URL event, a published snapshot."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

TABLE = "llm_scores"
BUCKET = "llm-catalogue-bench-read"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "TABLE_NAME": TABLE,
    "SITE_BUCKET": BUCKET,
}


def event(path: str, query: str = "") -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"accept": "application/json"},
        "requestContext": {"http": {"method": "GET", "path": path, "sourceIp": "127.0.0.1"}},
        "isBase64Encoded": False,
    }


def publish_snapshot(s3: Any, dynamodb: Any, version: int = 1) -> int:
    """Write llms.json and llms as the publisher renders them, from a paginated scan of the table."""
    from publisher.core.ddb import scan_items
    from publisher.core.documents import catalogue_document, json_object
    from publisher.core.model import sorted_records, to_record
    from publisher.publish.store import SiteStore

    models = sorted_records(to_record(item) for item in scan_items(dynamodb, TABLE))
    document = catalogue_document(version, "2026-01-01T00:00:00Z", models)
    SiteStore(s3, BUCKET).publish([json_object("llms", models), json_object("llms.json", document)], version)
    return len(models)


def timed(call: Any, arguments: list[Any]) -> list[float]:
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        response = call(argument)
        samples.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response
    return samples


def start_moto() -> Any:
    from publisher.local.emulator import free_port, start_emulator

    return start_emulator("127.0.0.1", free_port(), reuse=False)
