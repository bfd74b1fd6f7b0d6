"""DynamoDB Streams records (as Lambda receives them) to StreamChange values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from publisher.core.clock import iso
from publisher.core.config import TABLE_HASH_KEY
from publisher.core.ddb import MalformedImage, deserialize, deserialize_image
from publisher.publish.state import StreamChange

EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})


class MalformedRecord(ValueError):
    """A stream record that cannot be applied at all (as opposed to an item that fails validation)."""


def record_identity(record: Any) -> dict[str, str | None]:
    """The key and sequence number of a stream record, as far as they can be read (for logs and the DLQ)."""
    body = record.get("dynamodb") if isinstance(record, dict) else None
    body = body if isinstance(body, dict) else {}
    sequence = body.get("SequenceNumber")
    keys = body.get("Keys")
    raw = keys.get(TABLE_HASH_KEY) if isinstance(keys, dict) else None
    key = raw.get("S") if isinstance(raw, dict) else None
    return {"key": key if isinstance(key, str) else None,
            "sequence": sequence if isinstance(sequence, str) else None}


def parse_record(record: dict[str, Any]) -> StreamChange:
    if not isinstance(record, dict):
        raise MalformedRecord("record is not an object")
    name = record.get("eventName")
    if name not in EVENT_NAMES:
        raise MalformedRecord(f"eventName must be one of INSERT, MODIFY, REMOVE, got {name!r}")
    body = record.get("dynamodb")
    if not isinstance(body, dict):
        raise MalformedRecord("record has no dynamodb section")
    sequence = body.get("SequenceNumber")
    if not isinstance(sequence, str) or not sequence.isdigit():
        raise MalformedRecord("dynamodb.SequenceNumber is missing or not a number")
    try:
        keys = body.get("Keys") or {}
        key = deserialize(keys[TABLE_HASH_KEY]) if TABLE_HASH_KEY in keys else None
        new_image = deserialize_image(body["NewImage"]) if name != "REMOVE" and "NewImage" in body else None
        old_image = deserialize_image(body["OldImage"]) if "OldImage" in body else None
    except MalformedImage as exc:
        raise MalformedRecord(f"sequence {sequence}: {exc}") from exc
    if not isinstance(key, str):
        raise MalformedRecord(f"sequence {sequence}: Keys.{TABLE_HASH_KEY} is missing or not a string")
    if name != "REMOVE" and new_image is None:
        raise MalformedRecord(f"sequence {sequence}: {name} without NewImage (stream view must include new images)")
    created = body.get("ApproximateCreationDateTime")
    try:
        at = iso(datetime.fromtimestamp(float(created), UTC)) if created is not None else iso(datetime.now(UTC))
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise MalformedRecord(f"sequence {sequence}: bad ApproximateCreationDateTime") from exc
    return StreamChange(key=key, sequence=sequence, event_name=name, new_item=new_image, at=at, old_item=old_image)
