"""The append-only log of versions: one immutable private object per snapshot version, holding every
change of that version with the whole record before and after.

The change feed and the histories carry only the tracked fields; this log carries everything a
version changed (benchmarks and updated_at included), so the catalogue as published at any version
can be rebuilt exactly: from an empty catalogue (or any snapshot whose version is known) by applying
the logs of the following versions in order. One PUT per publish, whatever the batch size.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from publisher.core.documents import SiteObject, dumps, log_key
from publisher.core.model import FIELDS
from publisher.publish.state import Change

LOG_SCHEMA = 1
CHANGE_KEYS = ("model_name", "at", "sequence", "source", "old", "new")
LOG_TYPE = "application/json; charset=utf-8"
# Entries wait in the state until llms.json of their version (written after them) has landed; this
# bounds the wait when writes keep failing (each entry is one version's changes).
PENDING_VERSIONS_LIMIT = 1000


def committed_now() -> str:
    """The commit's wall time to the millisecond: versions can follow each other within a second."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entry(version: int, changes: list[Change], committed_at: str) -> dict[str, Any]:
    """A version's log document, in the order the changes were applied."""
    return {
        "log_schema": LOG_SCHEMA,
        "version": version,
        "committed_at": committed_at,
        "count": len(changes),
        "changes": [
            {"model_name": c.key, "at": c.at, "sequence": c.sequence, "source": c.source, "old": c.old,
             "new": c.new}
            for c in changes
        ],
    }


def _record(record: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if record is None else {f: record[f] for f in FIELDS if f in record}


def document(logged: dict[str, Any]) -> bytes:
    """A log entry's bytes in a fixed key order: the state keeps JSON with sorted keys, and a retry
    after a failed write must render the same bytes as the first attempt."""
    changes = [{**{k: change[k] for k in CHANGE_KEYS}, "old": _record(change["old"]), "new": _record(change["new"])}
               for change in logged["changes"]]
    return dumps({"log_schema": logged["log_schema"], "version": logged["version"],
                  "committed_at": logged["committed_at"], "count": logged["count"], "changes": changes})


def log_objects(entries: list[dict[str, Any]]) -> list[SiteObject]:
    """The log objects of the given entries. Each is written once: an entry still pending after its
    object landed (a publish without changes prunes nothing) is found by its hash and skipped."""
    return [SiteObject(log_key(e["version"]), document(e), LOG_TYPE, "no-store") for e in entries]
