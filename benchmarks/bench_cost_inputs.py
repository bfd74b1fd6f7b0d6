"""Measure what the cost model bills by: bytes per response at the edge, requests per publish, metrics per month.

- Compressed bytes of each public response at the local edge (`make run`'s stack, brotli as
  CloudFront applies it), body and headers, for the 29-model sample catalogue.
- S3 requests of one publish after a single-model write and of a reconcile that finds no drift,
  counted by a botocore hook around the real handler (moto in-process).
- The custom metrics a normal month emits: the EMF documents the handlers print for a stream
  publish, a reconcile and reads served from the snapshot (anomaly metrics are sent only when they
  fire and so are absent here), and the bytes of the read handler's log line per request.
- The freshness canary's share: S3 requests of the publish a heartbeat alone causes, and the
  metrics and EMF bytes of a passing canary run.

Writes benchmarks/results/cost_inputs.json, which scripts/cost_model.py reads.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import save  # noqa: E402
from publisher.local.launch import http_get, launch  # noqa: E402

PATHS = {
    "snapshot": "/llms.json",
    "poc_array": "/llms",
    "page": "/",
    "provider": "/providers/openai.json",
    "api_list": "/api/llms?provider=OpenAI",
    "api_model": "/api/llms/GPT-4",
}


def edge_bytes() -> dict[str, dict[str, int]]:
    with tempfile.TemporaryDirectory() as state:
        stack = launch(Path(state))
        try:
            sizes = {}
            for name, path in PATHS.items():
                status, headers, body = http_get(stack.edge + path, {"Accept-Encoding": "br, gzip"})
                assert status == 200, (path, status)
                header_bytes = sum(len(k) + len(v) + 4 for k, v in headers.items()) + len("HTTP/1.1 200 OK\r\n\r\n")
                sizes[name] = {"body": len(body), "headers": header_bytes,
                               "encoding": headers.get("Content-Encoding", "identity")}
            return sizes
        finally:
            stack.stop()


def publish_requests_and_metrics() -> dict[str, Any]:
    os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
                      AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled", TABLE_NAME="llm_scores", SITE_BUCKET="site",
                      AWS_LAMBDA_FUNCTION_NAME="bench", POWERTOOLS_TRACE_DISABLED="true",
                      POWERTOOLS_METRICS_NAMESPACE="LlmCatalogue")
    from moto import mock_aws

    from publisher.core import aws
    from publisher.local.lambda_shapes import LambdaContext, function_url_event
    from publisher.local.resources import ensure_bucket, ensure_table
    from publisher.ops.seed import sample_models, seed
    from publisher.publish import handler as publish
    from publisher.read import handler as read

    with mock_aws():
        aws.reset_clients()
        publish.reset()
        read.reset()
        ensure_table(aws.client("dynamodb"), "llm_scores")
        ensure_bucket(aws.client("s3"), "site")
        seed(aws.client("dynamodb"), "llm_scores", sample_models())
        calls: Counter[str] = Counter()
        aws.client("s3").meta.events.register("before-call.s3", lambda model, **_: calls.update([model.name]))
        context = LambdaContext()
        publish.handler({"action": "rebuild"}, context)

        def counted(event: dict[str, Any]) -> dict[str, int]:
            calls.clear()
            publish.handler(event, context)
            return dict(sorted(calls.items()))

        reconcile = counted({"action": "rebuild"})  # nothing changed since: no drift
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            publish.handler({"action": "rebuild"}, context)
            publish.handler(_single_write_event(sequence="000000000000000000400"), context)
        stream = counted(_single_write_event())
        heartbeat = counted(_heartbeat_event())
        records: list[logging.LogRecord] = []
        capture = logging.Handler()
        capture.emit = records.append  # type: ignore[method-assign]
        logger = logging.getLogger("publisher.read")
        logger.addHandler(capture)
        logger.setLevel(logging.INFO)
        with contextlib.redirect_stdout(out):
            for _ in range(3):
                read.handler(function_url_event("GET", "/api/llms", "provider=OpenAI", "127.0.0.1"), None)
        logger.removeHandler(capture)
        requests_logged = [lambda_json_line(r) for r in records]
    metrics = sorted({f"{m['Namespace']}/{name['Name']}:{'+'.join(sorted(d))}"
                      for line in out.getvalue().splitlines() if line.startswith('{"_aws"')
                      for m in json.loads(line)["_aws"]["CloudWatchMetrics"]
                      for name in m["Metrics"] for d in m["Dimensions"]})
    return {"s3_requests_per_stream_publish": stream, "s3_requests_per_reconcile": reconcile,
            "s3_requests_per_heartbeat": heartbeat, **canary_run_metrics(),
            "custom_metrics_normal_month": metrics,
            "read_log_bytes_per_request": round(sum(map(len, requests_logged)) / max(1, len(requests_logged)))}


STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message"}


def lambda_json_line(record: logging.LogRecord) -> str:
    """The line Lambda's JSON log format writes for a stdlib record: its fixed fields and the extras."""
    document = {"timestamp": "2026-11-28T00:00:00.000Z", "level": record.levelname, "message": record.getMessage(),
                "logger": record.name, "requestId": "8f507cfc-xmpl-4697-b07a-ac58fc914c95"}
    document.update({k: v for k, v in vars(record).items() if k not in STANDARD})
    return json.dumps(document, default=str)


def _single_write_event(sequence: str = "000000000000000000500") -> dict[str, Any]:
    record = json.loads((REPO / "tests" / "events" / "stream_modify_remove.json").read_text())["Records"][0]
    record["dynamodb"]["SequenceNumber"] = sequence
    record["dynamodb"]["NewImage"]["score"] = {"N": "91.5" if sequence.endswith("500") else "92.5"}
    return {"Records": [record]}


def _heartbeat_event() -> dict[str, Any]:
    from publisher.core.heartbeat import HEARTBEAT_KEY, heartbeat_item

    item = heartbeat_item("bench", "2026-11-28T00:00:00.000Z", 7)
    body = {"ApproximateCreationDateTime": 1764288000.0, "SequenceNumber": "000000000000000000600",
            "Keys": {"model_name": {"S": HEARTBEAT_KEY}}, "NewImage": item}
    return {"Records": [{"eventID": "hb", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": body}]}


def canary_run_metrics() -> dict[str, Any]:
    """What one passing canary run sends: its custom metrics and the bytes of its EMF line."""
    from publisher.canary.handler import metrics_document
    from publisher.canary.probe import Check, ProbeResult

    result = ProbeResult("0123456789abcdef", "2026-11-28T00:00:00.000Z", 10.5, 7,
                         [Check(name, True, "ok") for name in ("snapshot", "api-health", "freshness", "versions")])
    document = metrics_document(result, 120)
    names = [f"{m['Namespace']}/{n['Name']}:{'+'.join(sorted(d))}" for m in document["_aws"]["CloudWatchMetrics"]
             for n in m["Metrics"] for d in m["Dimensions"]]
    return {"canary_custom_metrics_normal_month": sorted(names),
            "canary_emf_bytes_per_run": len(json.dumps(document, separators=(",", ":"))) + 1}


def main() -> int:
    data = {"edge_bytes_brotli": edge_bytes(), **publish_requests_and_metrics()}
    path = save("cost_inputs", data)
    print(json.dumps(data, indent=2))
    print(f"results: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
