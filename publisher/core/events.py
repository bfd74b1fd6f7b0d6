"""Events derived from one applied change (model added, removed, or one tracked field changed): the
shape of changes.json, each model's history and GET /api/changes."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

from publisher.core import identity
from publisher.core.history import TRACKED


class AppliedChange(Protocol):
    """What an event is derived from: the publisher's Change, or a change read back from the log."""

    @property
    def key(self) -> str: ...
    @property
    def old(self) -> dict[str, Any] | None: ...
    @property
    def new(self) -> dict[str, Any] | None: ...
    @property
    def at(self) -> str: ...
    @property
    def sequence(self) -> str | None: ...
    @property
    def source(self) -> str: ...


def event_id(version: int, key: str, sequence: str | None, kind: str, field: str | None) -> str:
    """Deterministic: the same change in the same snapshot version always gets the same id."""
    digest = hashlib.sha256(json.dumps([key, sequence, kind, field]).encode()).hexdigest()[:16]
    return f"{version}-{digest}"


def _tracked(record: dict[str, Any] | None) -> dict[str, Any]:
    return {f: record[f] for f in TRACKED if f in record} if record else {}


def _event(change: AppliedChange, version: int, kind: str, field: str | None, old: Any, new: Any) -> dict[str, Any]:
    return {
        "id": event_id(version, change.key, change.sequence, kind, field),
        "version": version,
        "at": change.at,
        "kind": kind,
        "model_name": change.key,
        "slug": identity.key(change.key),
        "field": field,
        "old": old,
        "new": new,
        "sequence": change.sequence,
    }


def events_for(change: AppliedChange, version: int) -> list[dict[str, Any]]:
    """The events of one applied change, in field order; none when no tracked field moved.

    A stream change gives `added`/`removed` (old/new hold the model's tracked fields) or one
    `changed` per field. A rebuild saw no old image, only the drift between the snapshot and the
    scan: the same shapes, with kind `reconciled` and the time of the rebuild.
    """
    reconciled = change.source == "reconcile"
    old, new = _tracked(change.old), _tracked(change.new)
    if change.old is None and change.new is None:
        return []
    if change.old is None:
        return [_event(change, version, "reconciled" if reconciled else "added", None, None, new)]
    if change.new is None:
        return [_event(change, version, "reconciled" if reconciled else "removed", None, old, None)]
    kind = "reconciled" if reconciled else "changed"
    return [_event(change, version, kind, f, old.get(f), new.get(f))
            for f in TRACKED if old.get(f) != new.get(f)]
