"""A stand-in for Lambda's DynamoDB Streams trigger: GetRecords, batch, invoke in-process, retry.

It follows the event source mapping's rules: a batch is sent when it reaches `batch_size` records or
has waited `window` seconds; with partial batch responses the shard resumes from the lowest failed
sequence number; a record that still fails after `max_retries` is parked (the on-failure destination
in AWS) and the shard moves on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "llm-catalogue-publisher-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:llm-catalogue-publisher-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


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


@dataclass
class ShardCursor:
    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    first_buffered: float = 0.0
    attempts: int = 0


class StreamPoller:
    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        batch_size: int = 100,
        window: float = 0.5,
        poll_interval: float = 0.1,
        max_retries: int = 3,
        dlq_path: Path | None = None,
        on_batch: Callable[[int, dict[str, Any] | None, float], None] | None = None,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.handler = handler
        self.batch_size = batch_size
        self.window = window
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self.dlq_path = dlq_path
        self.on_batch = on_batch
        self.parked: list[dict[str, Any]] = []
        self._cursors: dict[str, ShardCursor] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_shard_refresh = 0.0
        self.batches = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _refresh_shards(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._cursors:
                continue
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            self._cursors[shard_id] = ShardCursor(shard_id, iterator)
        self._last_shard_refresh = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if time.monotonic() - self._last_shard_refresh > 5:
                    self._refresh_shards()
                busy = False
                for cursor in list(self._cursors.values()):
                    busy |= self.poll_once(cursor)
            except Exception:  # the poller must outlive a hiccup of the emulator
                log.exception("stream poller error; retrying")
                busy = False
                self._stop.wait(1.0)
            if not busy:
                self._stop.wait(self.poll_interval)

    def poll_once(self, cursor: ShardCursor) -> bool:
        """Read what is new on one shard and deliver a batch when one is due. True if it did work."""
        if cursor.iterator and len(cursor.buffer) < self.batch_size:
            response = self.streams.get_records(ShardIterator=cursor.iterator, Limit=1000)
            cursor.iterator = response.get("NextShardIterator")
            fresh = [lambda_record(r, self.stream_arn) for r in response.get("Records", [])]
            if fresh and not cursor.buffer:
                cursor.first_buffered = time.monotonic()
            cursor.buffer.extend(fresh)
        if not cursor.buffer:
            return False
        due = len(cursor.buffer) >= self.batch_size or time.monotonic() - cursor.first_buffered >= self.window
        if not due:
            return False
        self._deliver(cursor)
        return True

    def _deliver(self, cursor: ShardCursor) -> None:
        batch = cursor.buffer[: self.batch_size]
        started = time.perf_counter()
        try:
            response = self.handler({"Records": batch}, LambdaContext())
            failures = [f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])]
        except Exception as exc:  # a function error retries the whole batch, as Lambda does
            log.warning("publisher raised %s; retrying the batch", type(exc).__name__)
            response, failures = None, [batch[0]["dynamodb"]["SequenceNumber"]]
        elapsed = time.perf_counter() - started
        self.batches += 1
        if self.on_batch:
            self.on_batch(len(batch), response, elapsed)
        if not failures:
            cursor.buffer = cursor.buffer[len(batch):]
            cursor.attempts = 0
            cursor.first_buffered = time.monotonic()
            return
        lowest = min(int(s) for s in failures)
        index = next(i for i, r in enumerate(batch) if int(r["dynamodb"]["SequenceNumber"]) >= lowest)
        cursor.attempts += 1
        if cursor.attempts > self.max_retries:
            self._park(batch[index], len(batch))
            index += 1
            cursor.attempts = 0
        cursor.buffer = cursor.buffer[index:]
        self._stop.wait(min(2.0, 0.1 * 2**cursor.attempts))

    def _park(self, record: dict[str, Any], batch_size: int) -> None:
        sequence = record["dynamodb"].get("SequenceNumber")
        entry = {"reason": "RetryAttemptsExhausted", "sequence": sequence, "stream": self.stream_arn,
                 "batch_size": batch_size}
        self.parked.append(entry)
        log.error("record %s parked after %d attempts", sequence, self.max_retries + 1)
        if self.dlq_path:
            with self.dlq_path.open("a") as fh:
                fh.write(json.dumps(entry) + "\n")
