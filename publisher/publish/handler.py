"""Publisher Lambda: DynamoDB Stream batches, ops rebuilds and restores in, snapshot objects in S3 out."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from publisher.core import aws, text
from publisher.core.clock import parse_iso
from publisher.core.config import METRICS_NAMESPACE, Config
from publisher.core.ddb import scan_items
from publisher.publish.publisher import Publisher, PublishResult
from publisher.publish.state import StreamChange
from publisher.publish.store import SiteStore, StoreError
from publisher.publish.stream import MalformedRecord, parse_record, record_identity

logger = Logger(service="publisher")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="publisher")
tracer = Tracer(service="publisher")

REBUILD_ACTION = "rebuild"
# {"action": "restore", "version": N, "dry_run": false}: publish version N's catalogue again (restore.py).
RESTORE_ACTION = "restore"
# Failed records named in one log line at most; the line also carries the full count and the
# sequence range, which is what the DLQ's on-failure records name.
MAX_LOGGED_RECORDS = 100


@lru_cache(maxsize=1)
def config() -> Config:
    return Config.from_env()


def build_publisher(cfg: Config) -> Publisher:
    from publisher.publish import extensions

    publisher = Publisher(store=SiteStore(aws.client("s3"), cfg.site_bucket))
    extensions.install(publisher, cfg)
    return publisher


@lru_cache(maxsize=1)
def publisher() -> Publisher:
    return build_publisher(config())


def reset() -> None:
    """Drop cached config and clients (tests change the environment between cases)."""
    config.cache_clear()
    publisher.cache_clear()
    aws.reset_clients()


def _record_metrics(result: PublishResult, malformed: int) -> None:
    """Custom metrics are billed per metric for every hour it gets a data point, so the ones that
    flag trouble are sent only when they are non-zero; the routine figures of each publish (records
    received and applied, objects and bytes written, duration) are fields of its log line, and
    Lambda's own metrics count invocations, errors and duration for free."""
    invalid = len(result.rejected) + malformed
    if invalid:
        metrics.add_metric(name="InvalidRecords", unit=MetricUnit.Count, value=invalid)
    if result.conflicts:
        metrics.add_metric(name="WriteConflicts", unit=MetricUnit.Count, value=result.conflicts)
    for rejected in result.rejected:
        logger.warning("invalid item left out of the snapshot",
                       extra={"model_name": text.visible(rejected.key), "reason": rejected.reason})


def _log_published(result: PublishResult, kind: str, received: int = 0) -> None:
    logger.info(
        f"{kind}: version {result.version}, {result.changed} changed, {result.written} objects written",
        extra={
            "received": received,
            "version": result.version,
            "changed": result.changed,
            "written": result.written,
            "skipped": result.skipped,
            "bytes": result.bytes,
            "conflicts": result.conflicts,
            "invalid": len(result.rejected),
            "duration_ms": round(result.duration_ms, 1),
        },
    )


def failed_records(records: list[dict[str, Any]], reasons: list[str] | None = None) -> dict[str, Any]:
    """What an operator needs to match a DLQ entry to items: keys and sequence numbers, bounded."""
    named = [{**record_identity(r), **({"reason": reasons[i]} if reasons else {})}
             for i, r in enumerate(records[:MAX_LOGGED_RECORDS])]
    sequences = sorted((s for s in (record_identity(r)["sequence"] for r in records) if s), key=int)
    return {"count": len(records), "first_sequence": sequences[0] if sequences else None,
            "last_sequence": sequences[-1] if sequences else None, "records": named,
            "truncated": len(records) > MAX_LOGGED_RECORDS}


def handle_stream(event: dict[str, Any], pub: Publisher) -> dict[str, Any]:
    records = event.get("Records") or []
    changes: list[StreamChange] = []
    malformed: list[dict[str, Any]] = []
    reasons: list[str] = []

    def parse(record: DynamoDBRecord) -> None:
        try:
            changes.append(parse_record(record.raw_event))
        except MalformedRecord as exc:
            malformed.append(record.raw_event)
            reasons.append(str(exc))
            raise

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    with processor(records=records, handler=parse):
        processor.process()
    if malformed:
        # The trigger retries these, bisects the batch and finally parks them in the DLQ.
        logger.error("malformed stream records", extra=failed_records(malformed, reasons))
    try:
        result = pub.apply_stream(changes) if changes else None
    except StoreError as exc:
        logger.exception("publish failed; reporting the whole batch for retry",
                         extra={**failed_records(records), "error": type(exc).__name__})
        metrics.add_metric(name="PublishFailures", unit=MetricUnit.Count, value=1)
        return {"batchItemFailures": [
            {"itemIdentifier": r.get("dynamodb", {}).get("SequenceNumber", "")} for r in records
        ]}
    if result is not None:
        _record_metrics(result, len(malformed))
        if result.published and result.changes:
            # Only what this publish applied: a replayed record is old by nature, not a stale snapshot.
            oldest = min(parse_iso(c.at) for c in result.changes)
            lag = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
            metrics.add_metric(name="PublishLagSeconds", unit=MetricUnit.Seconds, value=lag)
        if result.published:
            _log_published(result, "published", len(records))
    return processor.response()


def handle_rebuild(pub: Publisher, cfg: Config, reason: str) -> dict[str, Any]:
    # A scan function, not its items: a rebuild that loses a race to a publish scans again.
    result = pub.rebuild(lambda: scan_items(aws.client("dynamodb"), cfg.table_name))
    _record_metrics(result, 0)
    if result.changed:
        metrics.add_metric(name="DriftRepaired", unit=MetricUnit.Count, value=result.changed)
        logger.warning("rebuild repaired drift", extra={"drift": result.changed, "reason": reason})
    _log_published(result, f"rebuild ({reason})")
    return {"version": result.version, "drift": result.changed, "written": result.written,
            "invalid": len(result.rejected)}


def handle_restore(pub: Publisher, event: dict[str, Any]) -> dict[str, Any]:
    from publisher.publish.restore import RestoreError, restore

    version = event.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError('a restore needs "version": the snapshot version to publish again (an integer)')
    try:
        report = restore(pub, version, dry_run=event.get("dry_run") is True)
    except RestoreError as exc:
        logger.error("restore refused", extra={"restored_version": version, "reason": str(exc)})
        return {"error": str(exc)}
    answer = report.as_dict()
    logger.info(f"restore of version {version}: version {report.from_version} -> {report.to_version}",
                extra={k: answer[k] for k in ("restored_version", "from_version", "to_version", "dry_run",
                                              "keys_removed")})
    return answer


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise ValueError("event must be a JSON object")
    if event.get("action") == REBUILD_ACTION:
        reason = str(event.get("reason", "ops"))[:64]
        return handle_rebuild(publisher(), config(), reason)
    if event.get("action") == RESTORE_ACTION:
        return handle_restore(publisher(), event)
    if "Records" in event:
        return handle_stream(event, publisher())
    raise ValueError('unknown event: expected DynamoDB Stream "Records", {"action": "rebuild"} or '
                     '{"action": "restore", "version": N}')
