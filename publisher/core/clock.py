"""Instants as every document and the state spell them: ISO 8601 in UTC, to the second, with a Z."""

from __future__ import annotations

from datetime import UTC, datetime

EPOCH = "1970-01-01T00:00:00Z"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
