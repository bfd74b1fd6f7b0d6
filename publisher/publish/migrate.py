"""Bring history objects of the layouts before shards into the shards, once per bucket.

Before, a model's history was a public object, first `history/<slug>.json` (names that slugify alike
shared one), then `history/<key>.json` (one per exact name). Every such object is split by the
`model_name` of its events, each part is merged into its model's line of its shard
(history_shards.py, merging by event id, so running twice changes nothing), and the old object is
deleted: its URL is answered by the read API from the shard. A rebuild runs this; a marker under
internal/ makes every later rebuild skip it with one HEAD.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from publisher.core.documents import JSON_TYPE, dumps
from publisher.core.history_shards import shard_objects
from publisher.core.identity import HISTORY_PREFIX
from publisher.publish.store import SiteStore

log = logging.getLogger(__name__)
LAYOUT_KEY = "internal/layout.json"
HISTORY_LAYOUT = 3
WORKERS = 16


@dataclass
class MigrationReport:
    examined: int = 0
    merged: int = 0
    deleted: int = 0
    skipped: bool = False


def history_keys(store: SiteStore) -> list[str]:
    keys: list[str] = []
    for page in store.s3.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=HISTORY_PREFIX):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)


def _events(body: bytes | None) -> list[dict[str, Any]]:
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        return []
    events = document.get("events", []) if isinstance(document, dict) else []
    return [e for e in events if isinstance(e, dict) and isinstance(e.get("model_name"), str) and "id" in e
            and isinstance(e.get("version"), int)]


def migrate_history(store: SiteStore, limit: int) -> MigrationReport:
    """Move every old history object's events into the shards and delete it; idempotent, skipped once done."""
    report = MigrationReport()
    if _layout(store) >= HISTORY_LAYOUT:
        report.skipped = True
        return report
    keys = history_keys(store)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        bodies = list(pool.map(store.get_bytes, keys))
    events = [event for body in bodies for event in _events(body)]
    report.examined = len(keys)
    version = max((e["version"] for e in events), default=0)
    for shard in shard_objects(events, store.get_with_prior, limit):
        report.merged += store.put_if_newer(shard, version)[0]
    for key in keys:
        store.s3.delete_object(Bucket=store.bucket, Key=key)
        report.deleted += 1
    store.s3.put_object(Bucket=store.bucket, Key=LAYOUT_KEY, Body=dumps({"history": HISTORY_LAYOUT}),
                        ContentType=JSON_TYPE, CacheControl="no-store")
    log.info("history layout migrated", extra={"examined": report.examined, "merged": report.merged,
                                                "deleted": report.deleted})
    return report


def _layout(store: SiteStore) -> int:
    """The bucket's history layout (1 or 2: history/ objects; 3: shards), read from the marker."""
    try:
        return int(json.loads(store.get_bytes(LAYOUT_KEY) or b"{}").get("history", 0))
    except (ValueError, TypeError, AttributeError):
        return 0
