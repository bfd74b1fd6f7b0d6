"""Bring history objects written before names had unique keys to the current layout, once per bucket.

Before, a model's history lived at `history/<slug>.json`, so names that slugify alike shared one
object. Each old object is split by the `model_name` of its events; each part is merged into its
model's own object (`identity.history_key`), and an object no name owns any more is deleted, so
its URL falls through to the read API, which answers it only when it names one model. A rebuild
runs this; a marker under internal/ makes every later rebuild skip it with one HEAD.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from publisher.config import JSON_CACHE_CONTROL
from publisher.history import merge_history
from publisher.identity import HISTORY_PREFIX, history_key
from publisher.render import JSON_TYPE, dumps
from publisher.store import VERSION_META, SiteStore, StoreError

log = logging.getLogger(__name__)
LAYOUT_KEY = "internal/layout.json"
HISTORY_LAYOUT = 2
MAX_ATTEMPTS = 5
_CONFLICT = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}


@dataclass
class MigrationReport:
    examined: int = 0
    merged: int = 0
    deleted: int = 0
    skipped: bool = False


def _code(exc: Exception) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def history_keys(store: SiteStore) -> list[str]:
    keys: list[str] = []
    for page in store.s3.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=HISTORY_PREFIX):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)


def _merge_into(store: SiteStore, key: str, name: str, events: list[dict[str, Any]], limit: int) -> bool:
    """Merge `events` into `name`'s object at `key` with a conditional write; True if it changed."""
    from botocore.exceptions import ClientError

    for _ in range(MAX_ATTEMPTS):
        body, prior = store.get_with_prior(key)
        existing = json.loads(body) if body else None
        document = merge_history(name, existing, events, limit)
        data = dumps(document)
        if data == body:
            return False
        condition = {"IfMatch": f'"{prior.etag}"'} if prior.etag else {"IfNoneMatch": "*"}
        version = max(prior.version, document["version"])
        try:
            store.s3.put_object(Bucket=store.bucket, Key=key, Body=data, ContentType=JSON_TYPE,
                                CacheControl=JSON_CACHE_CONTROL,
                                Metadata={VERSION_META: str(version)}, **condition)
            return True
        except ClientError as exc:
            if _code(exc) not in _CONFLICT:
                raise StoreError(f"writing s3://{store.bucket}/{key}: {_code(exc)}") from exc
    raise StoreError(f"{key}: gave up after {MAX_ATTEMPTS} conflicting writes")


def migrate_history(store: SiteStore, limit: int) -> MigrationReport:
    """Split every shared history object into per-name objects; idempotent, skipped once done."""
    report = MigrationReport()
    if store.head(LAYOUT_KEY) is not None:
        report.skipped = True
        return report
    for key in history_keys(store):
        body = store.get_bytes(key)
        report.examined += 1
        try:
            document = json.loads(body) if body else {}
        except ValueError:
            document = {}
        by_name: dict[str, list[dict[str, Any]]] = {}
        for event in document.get("events", []) if isinstance(document, dict) else []:
            if isinstance(event, dict) and isinstance(event.get("model_name"), str) and "id" in event:
                by_name.setdefault(event["model_name"], []).append(event)
        for name, events in sorted(by_name.items()):
            if _merge_into(store, history_key(name), name, events, limit):
                report.merged += 1
        if not any(history_key(name) == key for name in by_name):
            store.s3.delete_object(Bucket=store.bucket, Key=key)
            report.deleted += 1
    store.s3.put_object(Bucket=store.bucket, Key=LAYOUT_KEY, Body=dumps({"history": HISTORY_LAYOUT}),
                        ContentType=JSON_TYPE, CacheControl="no-store")
    log.info("history layout migrated", extra={"examined": report.examined, "merged": report.merged,
                                                "deleted": report.deleted})
    return report
