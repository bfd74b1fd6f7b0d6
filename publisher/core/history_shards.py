"""Every model's history in identity.HISTORY_SHARDS private objects: one line per exact model name.

A line is the model's history document byte for byte as `/history/<key>.json` serves it
(`history.merge_history`), and a name's shard is fixed by the hash of the name
(`identity.history_shard_key`). So a publish that touches 5,000 models reads and writes at most
HISTORY_SHARDS objects instead of 5,000, and the read API answers one model's history by finding its
line in one object, without parsing the others. Lines are sorted by name; a history never mixes
two names (merge_history keeps only the name's own events).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from publisher.core import schemas
from publisher.core.documents import SCHEMA_VERSION, Prior, SiteObject, dumps
from publisher.core.history import merge_history
from publisher.core.identity import history_shard_key

log = logging.getLogger(__name__)
SHARD_TYPE = "application/jsonl; charset=utf-8"
SHARD_CACHE_CONTROL = "no-store"
SHARD_WORKERS = 16
# How every line starts (merge_history's key order), then the JSON string of the name, then SLUG.
# A JSON string cannot contain `,"slug":` (its quotes are escaped), so the first one ends the name.
LINE_HEAD = (b'{"$schema":' + dumps(schemas.schema_url("History")) + b',"schema_version":'
             + str(SCHEMA_VERSION).encode() + b',"model_name":')
SLUG = b',"slug":'

Reader = Callable[[str], tuple[bytes | None, Prior]]


def line_prefix(model_name: str) -> bytes:
    return LINE_HEAD + dumps(model_name) + SLUG


def find_document(shard: bytes | None, model_name: str) -> bytes | None:
    """The history document of `model_name` in a shard's bytes, or None when it has none."""
    if not shard:
        return None
    prefix = line_prefix(model_name)
    if shard.startswith(prefix):
        start = 0
    else:
        start = shard.find(b"\n" + prefix) + 1
        if start == 0:
            return None
    end = shard.find(b"\n", start)
    return shard[start:end] if end >= 0 else shard[start:]


def line_name(line: bytes) -> str | None:
    """The model a line belongs to, read from its head alone."""
    if not line.startswith(LINE_HEAD):
        return None
    end = line.find(SLUG, len(LINE_HEAD))
    try:
        name = json.loads(line[len(LINE_HEAD):end]) if end > 0 else None
    except ValueError:
        return None
    return name if isinstance(name, str) else None


def split(key: str, shard: bytes | None) -> dict[str, bytes]:
    """A shard's lines by model name; a line that is not a history document is dropped, loudly."""
    lines: dict[str, bytes] = {}
    for line in (shard or b"").split(b"\n"):
        if not line:
            continue
        name = line_name(line)
        if name is None or key != history_shard_key(name):
            log.warning("dropping a line of %s that is no history document of this shard", key)
            continue
        lines[name] = line
    return lines


def join(lines: dict[str, bytes]) -> bytes:
    return b"".join(lines[name] + b"\n" for name in sorted(lines))


def merge_shard(key: str, events: dict[str, list[dict[str, Any]]], limit: int, shard: bytes | None) -> bytes:
    """The shard's bytes with `events` (by model name) merged into their models' lines."""
    lines = split(key, shard)
    for name, fresh in events.items():
        existing = json.loads(lines[name]) if name in lines else None
        lines[name] = dumps(merge_history(name, existing, fresh, limit))
    return join(lines)


def shard_objects(events: list[dict[str, Any]], read: Reader, limit: int) -> list[SiteObject]:
    """Read-modify-write of the shards the events fall in; only shards whose bytes change are returned.

    Each object carries what was read (Prior), so its write is conditional on it, and its merge: a
    shard another writer changed meanwhile is read again and merged into (merging by event id is
    idempotent), so no line or event is ever lost to a race.
    """
    by_shard: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for event in events:
        name = event["model_name"]
        by_shard.setdefault(history_shard_key(name), {}).setdefault(name, []).append(event)
    keys = sorted(by_shard)
    if not keys:
        return []
    with ThreadPoolExecutor(max_workers=min(SHARD_WORKERS, len(keys))) as pool:
        found = list(pool.map(read, keys))
    objects = []
    for key, (body, prior) in zip(keys, found, strict=True):
        merge = partial(merge_shard, key, by_shard[key], limit)
        merged = merge(body)
        if merged != body:
            objects.append(SiteObject(key, merged, SHARD_TYPE, SHARD_CACHE_CONTROL, prior, merge))
    return objects
