"""`make run`: emulator + table + bucket + seed + stream poller + edge, stopped cleanly on Ctrl-C."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.core.config import DEFAULT_TABLE_NAME, ENV_REVALIDATE_SECONDS, ENV_SITE_BUCKET, ENV_TABLE_NAME
from publisher.local.edge import Edge
from publisher.local.emulator import DEFAULT_EMULATOR_PORT, Emulator, local_aws_env, start_emulator
from publisher.local.faults import FaultSwitch, wrap_publisher, wrap_read
from publisher.local.metrics_tap import MetricsTap
from publisher.local.poller import StreamPoller
from publisher.local.resources import (
    ensure_bucket,
    ensure_queue,
    ensure_table,
    report_trigger_state,
    set_trigger,
    trigger_enabled,
)
from publisher.local.trigger_settings import trigger_settings

log = logging.getLogger(__name__)
LOCAL_BUCKET = "llm-catalogue-site-local"
DEFAULT_EDGE_PORT = 8000
# The read API revalidates its snapshot copy this often here, half the edge's 0.5 s cache: the API
# then never lags /llms.json at the edge by more than that (the freshness contract, README).
LOCAL_REVALIDATE_SECONDS = "0.25"


@dataclass
class StackOptions:
    host: str = "127.0.0.1"
    emulator_port: int = DEFAULT_EMULATOR_PORT
    edge_port: int = DEFAULT_EDGE_PORT
    table: str = DEFAULT_TABLE_NAME
    bucket: str = LOCAL_BUCKET
    seed: bool = True
    # None: the trigger's settings in infra/variables.tf (local/trigger_settings.py).
    batch_size: int | None = None
    window: float | None = None
    edge_ttl: float = 0.5
    max_record_age: float | None = None  # None: stream_max_record_age_seconds in infra/variables.tf
    state_dir: Path = field(default_factory=lambda: Path(".local"))


class LocalStack:
    def __init__(self, options: StackOptions, out: Any = None) -> None:
        self.options = options
        self.out = out or (lambda line: print(line, flush=True))
        self.emulator: Emulator | None = None
        self.poller: StreamPoller | None = None
        self.edge: Edge | None = None
        self.metrics: MetricsTap | None = None

    def configure_environment(self, endpoint: str) -> None:
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        os.environ.update(local_aws_env(endpoint))
        os.environ[ENV_TABLE_NAME] = self.options.table
        os.environ[ENV_SITE_BUCKET] = self.options.bucket
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        # The console shows one line per publish; the functions' EMF lines go to metrics.log (and
        # their counts into that line: MetricsTap), INFO logs are left out.
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("PUBLIC_BASE_URL", f"http://{self.options.host}:{self.options.edge_port}")
        os.environ.setdefault(ENV_REVALIDATE_SECONDS, LOCAL_REVALIDATE_SECONDS)

    def start(self) -> None:
        opts = self.options
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = MetricsTap(sys.stdout, opts.state_dir / "metrics.log")
        sys.stdout = self.metrics
        self.emulator = start_emulator(opts.host, opts.emulator_port,
                                       log_path=str(opts.state_dir / "emulator.log"))
        self.configure_environment(self.emulator.endpoint)

        from publisher.core import aws
        from publisher.publish import handler as publish_handler

        publish_handler.reset()
        stream_arn = ensure_table(aws.client("dynamodb"), opts.table)
        ensure_bucket(aws.client("s3"), opts.bucket)
        dlq_url = ensure_queue(aws.client("sqs"))
        set_trigger(aws.client("ssm"), enabled=True)
        report_trigger_state(aws.client("ssm"), enabled=True)
        if opts.seed:
            from publisher.ops.seed import sample_models, seed

            count = seed(aws.client("dynamodb"), opts.table, sample_models())
            self.out(f"seeded {count} models into {opts.table}")

        def on_batch(size: int, response: dict[str, Any] | None, elapsed: float) -> None:
            failed = len((response or {}).get("batchItemFailures", [])) if response is not None else size
            state = f"{failed} failed" if failed else "ok"
            version = self._published_version()
            emitted = self.metrics.take("publisher") if self.metrics else {}
            invalid = int(emitted.get("InvalidRecords", 0))
            left_out = f"{invalid} invalid left out (InvalidRecords in metrics.log), " if invalid else ""
            self.out(f"publish: {size} records in {elapsed * 1000:.0f} ms, snapshot v{version}, {left_out}{state}")

        def dead_letter(entry: dict[str, Any]) -> None:
            aws.client("sqs").send_message(QueueUrl=dlq_url, MessageBody=json.dumps(entry))
            info = entry["DDBStreamBatchInfo"]
            self.out(f"trigger: {info['batchSize']} records ({entry['requestContext']['condition']}) "
                     f"sent to the dead-letter queue {dlq_url}")

        switch = FaultSwitch(self.emulator.endpoint)  # game-day fault switches (local/faults.py)
        self.poller = StreamPoller(
            aws.client("dynamodbstreams"), stream_arn, wrap_publisher(publish_handler.handler, switch),
            batch_size=opts.batch_size, window=opts.window, dead_letter=dead_letter, on_batch=on_batch,
            max_record_age=opts.max_record_age if opts.max_record_age is not None
            else trigger_settings().max_record_age_seconds, enabled=self._trigger_switch(),
        )
        self.poller.start()
        self.edge = Edge(aws.client("s3"), opts.bucket, read_handler=wrap_read(self._read_handler(), switch),
                         max_ttl=opts.edge_ttl)
        self.edge.start(opts.host, opts.edge_port)

    def _trigger_switch(self) -> Any:
        """The trigger's Enabled flag, read from the emulator at most once a second."""
        from publisher.core import aws

        seen = {"at": float("-inf"), "enabled": True}

        def enabled() -> bool:
            if time.monotonic() - seen["at"] >= 1.0:
                was = seen["enabled"]
                seen["enabled"], seen["at"] = trigger_enabled(aws.client("ssm")), time.monotonic()
                if was != seen["enabled"]:
                    report_trigger_state(aws.client("ssm"), bool(seen["enabled"]))
                    self.out(f"trigger: {'enabled' if seen['enabled'] else 'disabled'}")
            return bool(seen["enabled"])

        return enabled

    def _read_handler(self) -> Any:
        try:
            from publisher.read import handler as read
        except ImportError:
            return None
        return read.handler

    def _published_version(self) -> int | str:
        from publisher.core import aws
        from publisher.publish.store import SiteStore

        try:
            current = SiteStore(aws.client("s3"), self.options.bucket).head("llms.json")
        except Exception:
            return "?"
        return current[1] if current else "?"

    def banner(self) -> str:
        assert self.emulator and self.edge
        edge = self.edge.url
        return "\n".join([
            "LLM catalogue local stack is up",
            f"  site (CDN stand-in): {edge}/",
            f"  snapshot:            {edge}/llms.json   (PoC contract: {edge}/llms)",
            f"  read API:            {edge}/api/llms   (OpenAPI: {edge}/api/openapi.json)",
            f"  JSON Schemas:        {edge}/schemas/catalogue.schema.json   (any origin may read it all: CORS *)",
            f"  AWS emulator:        {self.emulator.endpoint}  (region us-east-1, any credentials)",
            f"  try: AWS_ENDPOINT_URL={self.emulator.endpoint} aws dynamodb put-item --table-name "
            f"{self.options.table} --item '{{\"model_name\":{{\"S\":\"My Model\"}},"
            f"\"provider\":{{\"S\":\"Me\"}},\"score\":{{\"N\":\"91\"}}}}'",
            "Ctrl-C to stop.",
        ])

    def wait_published(self, timeout: float = 60) -> None:
        """Until the edge serves a published snapshot (`/llms.json` from the bucket, its schema
        beside it): before the first publish it is the read API's failover document, `version: null`.
        Without a seed nothing would publish, so an empty table is published by a rebuild."""
        from publisher.local.launch import http_get

        assert self.edge
        if not self.options.seed:
            from publisher.local.lambda_shapes import LambdaContext
            from publisher.publish import handler as publish_handler

            publish_handler.handler({"action": "rebuild", "reason": "start"}, LambdaContext())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status, headers, _ = http_get(self.edge.url + "/llms.json")
                schema, _, _ = http_get(self.edge.url + "/schemas/catalogue.schema.json")
            except OSError:
                status, headers, schema = 0, {}, 0
            if status == 200 and headers.get("X-Snapshot-Source") == "s3" and schema == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"no published snapshot at {self.edge.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.metrics and sys.stdout is self.metrics:
            sys.stdout = self.metrics.console
        if self.poller:
            self.poller.stop()
        if self.edge:
            self.edge.stop()
        if self.emulator:
            self.emulator.stop()


def run(options: StackOptions) -> int:
    stack = LocalStack(options)
    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        stack.wait_published()
        print(stack.banner(), flush=True)
        while not stopping.is_set():
            stopping.wait(0.5)
    finally:
        print("stopping...", flush=True)
        started = time.monotonic()
        stack.stop()
        print(f"stopped in {time.monotonic() - started:.1f} s", flush=True)
    return 0
