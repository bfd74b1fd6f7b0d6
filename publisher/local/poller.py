"""A stand-in for Lambda's DynamoDB Streams trigger: GetRecords, batch, invoke in-process, retry.

It follows the event source mapping's rules, with the settings infra/ deploys it with
(trigger_settings.py): one invocation per shard at a time, records waiting in the stream meanwhile;
a batch is sent when it reaches `batch_size` records or Lambda's 6 MB payload, or has waited
`window` seconds since its first record was read; with partial batch responses the shard resumes
from the lowest failed sequence number; a function error splits the batch in two (bisect) until the
failing record is alone; a record that still fails after `max_retries`, or that is older than
`max_record_age` when its turn comes, is dropped with an on-failure record in the shape Lambda sends
to the mapping's destination (`dead_letter`, an SQS queue in the local stack); a disabled trigger
(`enabled()` false) reads nothing until it is enabled again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from publisher.local.lambda_shapes import (
    PUBLISHER_ARN,
    LambdaContext,
    lambda_record,
    on_failure_record,
    payload_bytes,
)
from publisher.local.trigger_settings import MAX_PAYLOAD_BYTES, trigger_settings

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]
DeadLetter = Callable[[dict[str, Any]], None]
# The conditions Lambda names in an on-failure record of a stream event source mapping.
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"
# GetRecords returns at most 1,000 records a call from a DynamoDB stream.
GET_RECORDS_LIMIT = 1000
# What `{"Records":[...]}` adds around the records, and each comma.
_ENVELOPE_BYTES = 16


@dataclass
class ShardCursor:
    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # payload bytes of each buffered record
    first_buffered: float = 0.0
    attempts: int = 0
    # While a batch that raised is bisected: the sizes of the parts still to deliver, front first.
    segments: list[int] = field(default_factory=list)

    def _drop_segments(self, count: int) -> None:
        while count and self.segments:
            taken = min(count, self.segments[0])
            self.segments[0] -= taken
            count -= taken
            if not self.segments[0]:
                self.segments.pop(0)

    def consume(self, count: int) -> None:
        del self.buffer[:count]
        del self.sizes[:count]
        self._drop_segments(count)

    def bisect(self, count: int) -> None:
        """The first `count` records failed as one batch: deliver each half on its own."""
        self._drop_segments(count)
        self.segments[:0] = [count // 2, count - count // 2]


class StreamPoller:
    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        batch_size: int | None = None,
        window: float | None = None,
        poll_interval: float = 0.1,
        max_retries: int | None = None,
        dead_letter: DeadLetter | None = None,
        on_batch: Callable[[int, dict[str, Any] | None, float], None] | None = None,
        max_record_age: float | None = None,
        enabled: Callable[[], bool] = lambda: True,
        function_arn: str = PUBLISHER_ARN,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.handler = handler
        if batch_size is None or window is None or max_retries is None:
            settings = trigger_settings()
            batch_size = settings.batch_size if batch_size is None else batch_size
            window = settings.window_seconds if window is None else window
            max_retries = settings.max_retries if max_retries is None else max_retries
        self.batch_size = batch_size
        self.window = window
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self.dead_letter = dead_letter
        self.on_batch = on_batch
        self.max_record_age = max_record_age
        self.enabled = enabled
        self.function_arn = function_arn
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
                busy = False
                if self.enabled():
                    if time.monotonic() - self._last_shard_refresh > 5:
                        self._refresh_shards()
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
        read = False
        if cursor.iterator and len(cursor.buffer) < self.batch_size and sum(cursor.sizes) < MAX_PAYLOAD_BYTES:
            response = self.streams.get_records(ShardIterator=cursor.iterator, Limit=GET_RECORDS_LIMIT)
            cursor.iterator = response.get("NextShardIterator")
            fresh = [lambda_record(r, self.stream_arn) for r in response.get("Records", [])]
            if fresh and not cursor.buffer:
                cursor.first_buffered = time.monotonic()
            cursor.buffer.extend(fresh)
            cursor.sizes.extend(payload_bytes(r) for r in fresh)
            read = bool(fresh)
        self._drop_aged(cursor)
        if not cursor.buffer:
            return False
        due = (len(cursor.buffer) >= self.batch_size or sum(cursor.sizes) >= MAX_PAYLOAD_BYTES
               or bool(cursor.segments) or time.monotonic() - cursor.first_buffered >= self.window)
        if not due:
            return read  # more may be waiting in the stream: read again without a pause
        self._deliver(cursor)
        return True

    def _batch_length(self, cursor: ShardCursor) -> int:
        """How many buffered records the next invocation carries: the batch size, the bisect limit and
        the payload limit, at least one record."""
        limit = min(cursor.segments[0] if cursor.segments else self.batch_size, len(cursor.buffer))
        total = _ENVELOPE_BYTES
        for count, size in enumerate(cursor.sizes[:limit]):
            total += size
            if total > MAX_PAYLOAD_BYTES:
                return max(1, count)
        return limit

    def _deliver(self, cursor: ShardCursor) -> None:
        batch = cursor.buffer[: self._batch_length(cursor)]
        started = time.perf_counter()
        try:
            response = self.handler({"Records": batch}, LambdaContext())
            failures = [f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])]
            raised = False
        except Exception as exc:  # a function error: bisect the batch, as the trigger is set to
            log.warning("publisher raised %s on %d records", type(exc).__name__, len(batch))
            response, failures, raised = None, [batch[0]["dynamodb"]["SequenceNumber"]], True
        elapsed = time.perf_counter() - started
        self.batches += 1
        if self.on_batch:
            self.on_batch(len(batch), response, elapsed)
        if not failures:
            cursor.consume(len(batch))
            cursor.attempts = 0
            cursor.first_buffered = time.monotonic()
            return
        if raised and len(batch) > 1:
            cursor.bisect(len(batch))  # Lambda retries each half separately; a split is not a retry
            return
        lowest = min(int(s) for s in failures)
        index = next(i for i, r in enumerate(batch) if int(r["dynamodb"]["SequenceNumber"]) >= lowest)
        cursor.attempts += 1
        if cursor.attempts > self.max_retries:
            self._park([batch[index]], RETRIES_EXHAUSTED, cursor.attempts, cursor.shard_id)
            index += 1
            cursor.attempts = 0
        cursor.consume(index)
        self._stop.wait(min(2.0, 0.1 * 2**cursor.attempts))

    def _drop_aged(self, cursor: ShardCursor) -> None:
        """Records older than max_record_age are never invoked: Lambda sends their metadata on."""
        if self.max_record_age is None:
            return
        horizon = time.time() - self.max_record_age
        aged = 0
        for record in cursor.buffer:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if created is None or float(created) >= horizon:
                break
            aged += 1
        for start in range(0, aged, self.batch_size):
            self._park(cursor.buffer[start:min(aged, start + self.batch_size)], RECORD_AGE_EXCEEDED, 0,
                       cursor.shard_id)
        if aged:
            cursor.consume(aged)
            cursor.attempts = 0
            cursor.first_buffered = time.monotonic()

    def _park(self, records: list[dict[str, Any]], condition: str, invoke_count: int, shard_id: str) -> None:
        entry = on_failure_record(records, condition, invoke_count, shard_id, self.stream_arn, self.function_arn)
        self.parked.append(entry)
        info = entry["DDBStreamBatchInfo"]
        log.error("%s: records %s..%s sent to the dead-letter queue", condition, info["startSequenceNumber"],
                  info["endSequenceNumber"])
        if self.dead_letter:
            self.dead_letter(entry)
