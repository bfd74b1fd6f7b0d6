"""The log of versions read back: one version's log object parsed, and the one replay that rebuilds a
catalogue from logs (the read API's as-of reads and the publisher's restore both use it).

The publisher's changelog.py writes `internal/log/<N>.json` once per version with each change's whole
record before and after; applying the logs 1..N in order to an empty catalogue gives version N.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LoggedVersion:
    version: int
    committed_at: datetime
    committed_text: str
    changes: list[dict[str, Any]]


def parse(document: dict[str, Any]) -> LoggedVersion:
    """A version's log document (as changelog.entry builds it, or its object's JSON)."""
    committed = datetime.fromisoformat(document["committed_at"].replace("Z", "+00:00"))
    return LoggedVersion(int(document["version"]), committed, document["committed_at"], document["changes"])


def parse_bytes(body: bytes) -> LoggedVersion:
    return parse(json.loads(body))


def replay(models: dict[str, dict[str, Any]], logs: Iterable[LoggedVersion]) -> dict[str, dict[str, Any]]:
    """Apply the logs' changes, in order, to `models` (changed in place and returned)."""
    for logged in logs:
        for change in logged.changes:
            if change["new"] is None:
                models.pop(change["model_name"], None)
            else:
                models[change["model_name"]] = change["new"]
    return models
