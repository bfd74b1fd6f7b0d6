"""The read benchmark's fixtures and its cold-start proxy, shared with bench_cold_start.py.

The cold-start proxy starts a fresh interpreter per run against one moto server on a free port and
measures spawn -> first answered request (interpreter start, imports, client creation, the first data
read), the two handlers (ours and the PoC's) interleaved. `import_ms` reads `python -X importtime`.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from common import summary, synthetic_items  # noqa: E402

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
    from publisher.model import sorted_records, to_record
    from publisher.render import catalogue_document, json_object
    from publisher.store import SiteStore
    from publisher.stream import scan_items

    models = sorted_records(to_record(item) for item in scan_items(dynamodb, TABLE))
    document = catalogue_document(version, "2026-01-01T00:00:00Z", models)
    SiteStore(s3, BUCKET).publish([json_object("llms", models), json_object("llms.json", document)], version)
    return len(models)



def start_moto() -> Any:
    from publisher.local.emulator import free_port, start_emulator

    return start_emulator("127.0.0.1", free_port(), reuse=False)


OURS_COLD = """
from publisher.handlers import read
response = read.handler({event}, None)
print("STATUS", response["statusCode"], response["headers"].get("X-Snapshot-Source"))
"""
POC_COLD = """
import contextlib, io
import baseline_poc
with contextlib.redirect_stdout(io.StringIO()):
    response = baseline_poc.handler({event}, None)
print("STATUS", response["statusCode"], "dynamodb")
"""


def cold(count: int, runs: int) -> dict[str, Any]:
    import boto3

    from publisher.local.resources import ensure_bucket, ensure_table
    from publisher.seed import seed

    with start_moto() as emulator:
        env = {
            **os.environ,
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": emulator.endpoint,
            "PYTHONPATH": f"{REPO}:{BENCH}",
        }
        kwargs = {
            "endpoint_url": emulator.endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",
        }
        dynamodb, s3 = boto3.client("dynamodb", **kwargs), boto3.client("s3", **kwargs)
        ensure_table(dynamodb, TABLE)
        ensure_bucket(s3, BUCKET)
        started = time.perf_counter()
        seed(dynamodb, TABLE, synthetic_items(count))
        publish_snapshot(s3, dynamodb)
        took = time.perf_counter() - started
        print(f"  emulator {emulator.endpoint} seeded with {count} models in {took:.1f} s")
        scripts = {
            "ours": OURS_COLD.format(event=repr(event("/api/llms", "provider=OpenAI&min_score=90"))),
            "poc": POC_COLD.format(event=repr(event("/llms"))),
        }
        samples: dict[str, list[float]] = {"ours": [], "poc": []}
        for _ in range(runs):
            for name, script in scripts.items():
                began = time.perf_counter()
                result = subprocess.run(
                    [sys.executable, "-c", script],
                    env=env,
                    cwd=BENCH,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                elapsed = (time.perf_counter() - began) * 1000
                if "STATUS 200" not in result.stdout:
                    raise RuntimeError(f"{name} cold run failed:\n{result.stdout}\n{result.stderr[-2000:]}")
                samples[name].append(elapsed)
    return {name: summary(values) for name, values in samples.items()}


def import_ms(module: str, runs: int) -> float:
    """Median cumulative import time of `module` (its own body included) from `python -X importtime`."""
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": f"{REPO}:{BENCH}"}
    env.pop("AWS_ENDPOINT_URL", None)
    values = []
    pattern = re.compile(rf"import time:\s+\d+ \|\s+(\d+) \|\s*{re.escape(module)}$")
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            env=env,
            cwd=BENCH,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        matches = [pattern.search(line) for line in result.stderr.splitlines()]
        found = [int(m.group(1)) for m in matches if m]
        values.append(found[-1] / 1000)
    return statistics.median(values)
