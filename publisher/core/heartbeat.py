"""The freshness canary's heartbeat: a reserved table item, published as `health.json`, never as a model."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

# The reserved `model_name`. The '/' keeps it out of reach of the read API's per-model routes
# (a name with '/' is a 400 there) and no catalogue name validated by the seed can take it.
HEARTBEAT_KEY = "__canary__/heartbeat"
HEALTH_KEY = "health.json"
HEALTH_SCHEMA_VERSION = 1
MAX_RUN_ID_LEN = 64
RUN_ID_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_RUN_ID_LEN}}}$"
WRITTEN_AT_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
_RUN_ID = re.compile(RUN_ID_PATTERN)
# A heartbeat is written with the canary's clock to the millisecond, in one fixed format, so two
# heartbeats compare as strings in time order.
WRITTEN_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class InvalidHeartbeat(ValueError):
    """The reserved item does not carry a heartbeat the publisher can publish."""


def is_heartbeat(key: object) -> bool:
    return key == HEARTBEAT_KEY


def written_at(moment: datetime) -> str:
    """`2026-01-02T03:04:05.678Z`: milliseconds, UTC, sortable as a string."""
    return moment.strftime(WRITTEN_AT_FORMAT)[:-4] + "Z"


def heartbeat_item(run_id: str, at: str, last_version: int | None) -> dict[str, Any]:
    """The heartbeat as DynamoDB JSON for PutItem (the canary carries no serializer)."""
    item: dict[str, Any] = {
        "model_name": {"S": HEARTBEAT_KEY},
        "run_id": {"S": run_id},
        "written_at": {"S": at},
    }
    if last_version is not None:
        item["last_version"] = {"N": str(int(last_version))}
    return item


def parse_heartbeat(item: dict[str, Any]) -> dict[str, Any]:
    """A deserialized heartbeat item -> the heartbeat as published; InvalidHeartbeat says what is wrong."""
    run_id = item.get("run_id")
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidHeartbeat(f"run_id must be 1..{MAX_RUN_ID_LEN} of [A-Za-z0-9_-]")
    at = item.get("written_at")
    if not isinstance(at, str) or len(at) != 24:
        raise InvalidHeartbeat("written_at must be a UTC time like 2026-01-02T03:04:05.678Z")
    try:
        datetime.strptime(at, WRITTEN_AT_FORMAT)
    except ValueError as exc:
        raise InvalidHeartbeat("written_at must be a UTC time like 2026-01-02T03:04:05.678Z") from exc
    beat: dict[str, Any] = {"run_id": run_id, "written_at": at, "last_version": None}
    last = item.get("last_version")
    if last is not None:
        if isinstance(last, bool) or not isinstance(last, (int, Decimal)) or last != int(last) or last < 0:
            raise InvalidHeartbeat("last_version must be a whole number >= 0")
        beat["last_version"] = int(last)
    return beat


def health_document(beat: dict[str, Any], sequence: str, stream_at: str, schema_url: str) -> dict[str, Any]:
    """`health.json`: the newest heartbeat the publisher applied, its stream sequence and stream time.
    Its JSON Schema is publisher/core/schemas.py's `Heartbeat`, served at `schema_url`."""
    return {
        "$schema": schema_url,
        "schema_version": HEALTH_SCHEMA_VERSION,
        "heartbeat": {"run_id": beat["run_id"], "written_at": beat["written_at"],
                      "last_version": beat["last_version"]},
        "sequence": sequence,
        "stream_at": stream_at,
    }
