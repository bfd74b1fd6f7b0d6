"""The catalogue model: DynamoDB items (scan results or stream images) validated into plain records."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from publisher.core import text
from publisher.core.heartbeat import HEARTBEAT_KEY

MAX_NAME_LEN = 256
MAX_PROVIDER_LEN = 128
MAX_VERSION_LEN = 64
MAX_BENCHMARKS = 50
MAX_BENCHMARK_NAME_LEN = 64
MAX_CONTEXT_WINDOW = 1_000_000_000
MAX_TIMESTAMP_LEN = 40

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")

# Field order of a published model object; the PoC's four fields come first, unchanged.
FIELDS = (
    "model_name",
    "provider",
    "context_window",
    "score",
    "version",
    "release_date",
    "benchmarks",
    "updated_at",
)


class InvalidItem(ValueError):
    """An item that cannot be published; `key` names it (or is None) and `reason` says why."""

    def __init__(self, key: str | None, reason: str) -> None:
        super().__init__(f"{key!r}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Rejected:
    key: str | None
    reason: str


def slugify(value: str) -> str:
    """URL-safe, lower-case, stable slug: `Claude 3 Opus` -> `claude-3-opus`."""
    slug = _SLUG_STRIP.sub("-", value.lower()).strip("-")
    return slug or "unnamed"


def _text(item: dict[str, Any], field: str, key: str | None, max_len: int, required: bool) -> str | None:
    value = item.get(field)
    if value is None:
        if required:
            raise InvalidItem(key, f"{field} is missing")
        return None
    if not isinstance(value, str):
        raise InvalidItem(key, f"{field} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise InvalidItem(key, f"{field} is empty")
    if len(value) > max_len:
        raise InvalidItem(key, f"{field} is longer than {max_len} characters")
    refused = text.reason(field, value)
    if refused:
        raise InvalidItem(key, refused)
    return value


def _number(value: Any, field: str, key: str | None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        raise InvalidItem(key, f"{field} must be a number, got {type(value).__name__}")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise InvalidItem(key, f"{field} must be finite")
    return number


def _as_json_number(number: Decimal) -> float:
    value = float(number)
    if math.isinf(value):
        raise OverflowError(number)
    return value


def to_record(item: dict[str, Any]) -> dict[str, Any]:
    """Validate one deserialized DynamoDB item and return its published form.

    Raises InvalidItem naming the key and the rule it broke. Unknown attributes are dropped.
    """
    raw_key = item.get("model_name")
    key = raw_key if isinstance(raw_key, str) else None
    name = _text(item, "model_name", key, MAX_NAME_LEN, required=True)
    assert name is not None
    if name == HEARTBEAT_KEY:
        raise InvalidItem(key, "model_name is reserved for the freshness canary's heartbeat")
    record: dict[str, Any] = {"model_name": name}
    record["provider"] = _text(item, "provider", key, MAX_PROVIDER_LEN, required=True)

    if item.get("context_window") is not None:
        window = _number(item["context_window"], "context_window", key)
        if window != window.to_integral_value():
            raise InvalidItem(key, "context_window must be a whole number")
        if not 1 <= window <= MAX_CONTEXT_WINDOW:
            raise InvalidItem(key, f"context_window must be between 1 and {MAX_CONTEXT_WINDOW}")
        record["context_window"] = int(window)

    if item.get("score") is None:
        raise InvalidItem(key, "score is missing")
    score = _number(item["score"], "score", key)
    if not Decimal(0) <= score <= Decimal(100):
        raise InvalidItem(key, f"score must be between 0 and 100, got {score}")
    record["score"] = _as_json_number(score)

    version = _text(item, "version", key, MAX_VERSION_LEN, required=False)
    if version is not None:
        record["version"] = version

    release = _text(item, "release_date", key, 10, required=False)
    if release is not None:
        try:
            date.fromisoformat(release)
        except ValueError as exc:
            raise InvalidItem(key, f"release_date must be an ISO date (YYYY-MM-DD), got {release!r}") from exc
        if len(release) != 10:
            raise InvalidItem(key, "release_date must be an ISO date (YYYY-MM-DD)")
        record["release_date"] = release

    benchmarks = item.get("benchmarks")
    if benchmarks is not None:
        if not isinstance(benchmarks, dict):
            raise InvalidItem(key, f"benchmarks must be a map, got {type(benchmarks).__name__}")
        if len(benchmarks) > MAX_BENCHMARKS:
            raise InvalidItem(key, f"benchmarks has more than {MAX_BENCHMARKS} entries")
        cleaned: dict[str, float] = {}
        for bench_name in sorted(benchmarks):
            if not isinstance(bench_name, str) or not bench_name or len(bench_name) > MAX_BENCHMARK_NAME_LEN:
                raise InvalidItem(key, f"benchmark names must be 1..{MAX_BENCHMARK_NAME_LEN} characters")
            refused = text.reason("benchmark names", bench_name)
            if refused:
                raise InvalidItem(key, refused)
            cleaned[bench_name] = _as_json_number(
                _number(benchmarks[bench_name], f"benchmarks.{bench_name}", key)
            )
        record["benchmarks"] = cleaned

    updated = _text(item, "updated_at", key, MAX_TIMESTAMP_LEN, required=False)
    if updated is not None:
        try:
            datetime.fromisoformat(updated.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidItem(key, f"updated_at must be an ISO timestamp, got {updated!r}") from exc
        record["updated_at"] = updated

    return {field: record[field] for field in FIELDS if field in record}


def sort_key(record: dict[str, Any]) -> tuple[float, str]:
    """Published order: score descending, then model_name."""
    return (-record["score"], record["model_name"])


def sorted_records(records: Any) -> list[dict[str, Any]]:
    return sorted(records, key=sort_key)
