"""Each model's change history document (/history/<key>.json): its events merged by id, newest first."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from publisher.core import identity, schemas
from publisher.core.documents import SCHEMA_VERSION
from publisher.core.model import FIELDS

log = logging.getLogger(__name__)
# The fields whose changes become events, in the published field order. `benchmarks` and
# `updated_at` are left out on purpose: updated_at moves on every write and would flood the feed.
TRACKED = tuple(f for f in FIELDS if f in {"score", "version", "context_window", "provider", "release_date"})
_RANK = {None: -1, **{f: i for i, f in enumerate(TRACKED)}}


EVENT_KEYS = ("id", "version", "at", "kind", "model_name", "slug", "field", "old", "new", "sequence")


def canonical(event: dict[str, Any]) -> dict[str, Any]:
    """An event with its keys in the published order: the state stores JSON with sorted keys, and
    the objects must be byte-identical whether rendered from a fresh or a reloaded state."""
    out = {key: event.get(key) for key in EVENT_KEYS}
    # The model's key as it is now: events recorded under an older layout carry their old slug.
    out["slug"] = identity.key(out["model_name"])
    for side in ("old", "new"):
        if isinstance(out[side], dict):
            out[side] = {f: out[side][f] for f in TRACKED if f in out[side]}
    return out


def order_key(event: dict[str, Any]) -> tuple[int, int, int, str]:
    """Chronological order of one model's events: version, then stream sequence, then field."""
    return (event["version"], int(event["sequence"] or 0), _RANK.get(event["field"], -1), event["id"])


def merge_history(model_name: str, existing: dict[str, Any] | None, events: Iterable[dict[str, Any]],
                  limit: int) -> dict[str, Any]:
    """Merge one model's events into its history document by event id, newest first, at most `limit`.

    Only events of `model_name` itself are kept, whatever the existing document holds: a history
    never mixes two models (documents written before names had unique keys may).
    """
    known: dict[str, dict[str, Any]] = {}
    for event in [*(existing or {}).get("events", []), *events]:
        if event.get("model_name") == model_name:
            known.setdefault(event["id"], event)
    kept = sorted(known.values(), key=order_key, reverse=True)[:limit]
    return {
        "$schema": schemas.schema_url("History"),
        "schema_version": SCHEMA_VERSION,
        "model_name": model_name,
        "slug": identity.key(model_name),
        "version": max((e["version"] for e in kept), default=0),
        "count": len(kept),
        "events": [canonical(event) for event in kept],
    }


def parse(key: str, body: bytes | None) -> dict[str, Any] | None:
    if body is None:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        log.warning("history object %s is not JSON; rewriting it from the pending events", key)
        return None
    return document if isinstance(document, dict) else None
