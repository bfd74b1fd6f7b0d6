"""Dated snapshots: the first publish of each UTC day keeps an immutable copy of llms.json.

`snapshots/<YYYY-MM-DD>.json` holds the bytes of `llms.json` as that day's first publish (or the
scheduled reconcile, whichever came first) wrote them. It is written with If-None-Match: *, so it is
never overwritten: of two publishes racing on the same day the second gets a 412 and keeps the
first's copy. `snapshots/index.json` lists every dated file (date, version, count, URL), oldest
first; it is merged with If-Match, so racing publishers never drop each other's entry. The dated
file is written before the index, so the index never names a file that does not exist, and a
publish that died between the two is repaired by the next one (it finds today's entry missing).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from publisher.core import schemas
from publisher.core.config import IMMUTABLE_CACHE_CONTROL, JSON_CACHE_CONTROL
from publisher.core.documents import JSON_TYPE, SiteObject, dumps
from publisher.core.schema_definitions import SCHEMA_VERSION
from publisher.publish.store import SiteStore, SnapshotConflict, StoreError

log = logging.getLogger(__name__)
PREFIX = "snapshots/"
INDEX_KEY = f"{PREFIX}index.json"
MAX_INDEX_ATTEMPTS = 8


def dated_key(day: str) -> str:
    return f"{PREFIX}{day}.json"


def utc_day(now: datetime) -> str:
    """The UTC calendar date of an aware instant (a naive one is refused: it has no UTC date)."""
    offset = now.utcoffset()
    if offset is None:
        raise ValueError("a dated snapshot needs an aware datetime")
    return (now - offset).date().isoformat()


def index_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(entries, key=lambda e: e["date"])
    return {"$schema": schemas.schema_url("SnapshotIndex"), "schema_version": SCHEMA_VERSION,
            "count": len(ordered), "snapshots": ordered}


def _entry(day: str, body: bytes) -> dict[str, Any]:
    document = json.loads(body)
    return {"date": day, "version": document["version"], "count": document["count"], "url": f"/{dated_key(day)}"}


def keep(store: SiteStore, catalogue: SiteObject, version: int, now: datetime) -> str | None:
    """Keep today's copy of `catalogue` (llms.json) unless today has one; returns the date written or
    listed by this call, None when today was already complete."""
    day = utc_day(now)
    body, prior = store.get_with_prior(INDEX_KEY)
    entries: list[dict[str, Any]] = json.loads(body)["snapshots"] if body else []
    if any(e["date"] == day for e in entries):
        return None
    dated = SiteObject(dated_key(day), catalogue.body, JSON_TYPE, IMMUTABLE_CACHE_CONTROL)
    if store.put_conditional(dated, version, {"IfNoneMatch": "*"}):
        entry = _entry(day, catalogue.body)
        log.info("dated snapshot kept", extra={"date": day, "version": version})
    else:
        # Another publish kept today's copy first: list its copy, never ours.
        existing = store.get_bytes(dated.key)
        if existing is None:  # a 409: the other write is still in flight; the next publish lists it
            raise SnapshotConflict(f"{dated.key}: a concurrent write is in flight")
        entry = _entry(day, existing)
    for _ in range(MAX_INDEX_ATTEMPTS):
        if not any(e["date"] == day for e in entries):
            index = SiteObject(INDEX_KEY, dumps(index_document([*entries, entry])), JSON_TYPE, JSON_CACHE_CONTROL)
            condition = {"IfMatch": f'"{prior.etag}"'} if prior.etag else {"IfNoneMatch": "*"}
            if store.put_conditional(index, version, condition):
                return day
        body, prior = store.get_with_prior(INDEX_KEY)
        entries = json.loads(body)["snapshots"] if body else []
        if any(e["date"] == day for e in entries):
            return day
    raise SnapshotConflict(f"{INDEX_KEY}: gave up after {MAX_INDEX_ATTEMPTS} conflicting writes")


def install(publisher: Any) -> None:
    """Keep a dated snapshot after every publish that wrote the site (a no-op once today has one).

    A failure here never fails the publish: the catalogue is already out, and the next publish or
    the hourly reconcile (which always writes the site) keeps today's copy instead."""

    def after(objects: list[SiteObject], version: int, now: datetime) -> None:
        catalogue = next((o for o in objects if o.key == "llms.json"), None)
        if catalogue is None:
            return
        try:
            keep(publisher.store, catalogue, version, now)
        except StoreError as exc:
            log.warning("dated snapshot not kept: %s", exc)

    publisher.published_hooks.append(after)

