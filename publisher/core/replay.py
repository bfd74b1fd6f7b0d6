"""Replaying the log of versions: checkpoints of the committed catalogue and the catalogue at any version.

The log (`internal/log/<N>.json`, publisher/publish/changelog.py) holds every change of version N with
the whole record before and after. Every CHECKPOINT_EVERY versions the publisher also writes the whole
committed catalogue of that version (`internal/checkpoint/<N>.json`, publisher/publish/checkpoints.py)
and lists it, with its commit time, in one small index. The catalogue at version N is then the newest
checkpoint at or before N plus at most CHECKPOINT_EVERY - 1 logs, fetched side by side: the cost of a
read no longer grows with the length of the history. Pure functions over bytes; the read API's
VersionLog (publisher/read/versions.py) fetches with them, and `VersionLog(fetch, now).models(N)` is
the catalogue of version N for any caller (an operator's restore among them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from publisher.core.documents import dumps
from publisher.core.model import FIELDS

CHECKPOINT_EVERY = 32
CHECKPOINT_PREFIX = "internal/checkpoint/"
CHECKPOINT_INDEX_KEY = "internal/checkpoint-index.json"
CHECKPOINT_SCHEMA = 1
# Parallel GETs of one read: a cold read fetches one checkpoint and up to CHECKPOINT_EVERY - 1 logs
# in about one round trip instead of one after the other.
FETCH_WORKERS = CHECKPOINT_EVERY
_MODELS_OPEN = b'"models":['
_BOUNDARY = b'},{"model_name":'
_HEAD = re.compile(rb'^\{"checkpoint_schema":(\d+),"version":(\d+),"committed_at":"([^"]+)"')

Models = dict[str, dict[str, Any]]
Fetch = Callable[[str], bytes | None]


@dataclass(frozen=True)
class Logged:
    """One version of the log, parsed."""

    version: int
    committed_at: datetime
    committed_text: str
    changes: list[dict[str, Any]]


@dataclass(frozen=True)
class Indexed:
    """One checkpoint the index lists: its version and its version's commit time."""

    version: int
    committed_at: datetime
    committed_text: str


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def checkpoint_key(version: int) -> str:
    """Zero-padded like the log's keys, so a listing of the prefix is in version order."""
    return f"{CHECKPOINT_PREFIX}{version:012d}.json"


def record(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A record as the log keeps it (the model's fields only)."""
    return None if value is None else {f: value[f] for f in FIELDS if f in value}


def apply(models: Models, changes: Iterable[dict[str, Any]]) -> None:
    """Move `models` forward over one version's changes, in the order they were applied."""
    for change in changes:
        if change["new"] is None:
            models.pop(change["model_name"], None)
        else:
            models[change["model_name"]] = change["new"]


def undo(models: Models, changes: list[dict[str, Any]]) -> None:
    """Move `models` back over one version's changes (each change's `old`, last change first)."""
    for change in reversed(changes):
        old = record(change["old"])
        if old is None:
            models.pop(change["model_name"], None)
        else:
            models[change["model_name"]] = old


def checkpoint_bytes(version: int, committed_at: str, models: Models) -> bytes:
    """A checkpoint's bytes: a pure function of the version, its commit time and its models (sorted by
    name), so a retry or a racing publisher renders the same object byte for byte."""
    ordered = [record(models[name]) for name in sorted(models)]
    return dumps({"checkpoint_schema": CHECKPOINT_SCHEMA, "version": version, "committed_at": committed_at,
                  "count": len(ordered), "models": ordered})


def checkpoint_header(body: bytes) -> Indexed:
    """Version and commit time of a checkpoint from its first bytes (no parse of the models)."""
    found = _HEAD.match(body[:256])
    if found is None or int(found.group(1)) != CHECKPOINT_SCHEMA:
        raise ValueError("not a checkpoint of a known schema")
    text = found.group(3).decode()
    return Indexed(int(found.group(2)), parse_time(text), text)


def split_checkpoint(body: bytes) -> tuple[Indexed, list[bytes]]:
    """A checkpoint's header and each model's bytes, unparsed (records are joined by `BOUNDARY`, which
    nothing inside a record can look like: every quote in a string is escaped)."""
    head = checkpoint_header(body)
    opening = body.find(_MODELS_OPEN)
    if opening < 0 or not body.endswith(b"]}"):
        raise ValueError("not a checkpoint: no models list")
    first, last = opening + len(_MODELS_OPEN), len(body) - 2
    pieces: list[bytes] = []
    while first < last:
        cut = body.find(_BOUNDARY, first, last)
        end = last if cut < 0 else cut + 1
        pieces.append(body[first:end])
        first = end + 1
    return head, pieces


def parse_log(version: int, body: bytes) -> Logged:
    document = json.loads(body)
    return Logged(version, parse_time(document["committed_at"]), document["committed_at"], document["changes"])


def index_document(entries: Iterable[Indexed], first: str | None) -> bytes:
    """The checkpoint index: every checkpoint with its commit time, oldest first; `first` is the commit
    time of version 1 when it was known (the start of the history), so a read needs no log for it."""
    ordered = sorted({e.version: e for e in entries}.values(), key=lambda e: e.version)
    return dumps({"index_schema": CHECKPOINT_SCHEMA, "every": CHECKPOINT_EVERY, "first_committed_at": first,
                  "checkpoints": [{"version": e.version, "committed_at": e.committed_text} for e in ordered]})


def parse_index(body: bytes | None) -> tuple[list[Indexed], str | None]:
    """The index's entries, oldest first, and version 1's commit time (None: not recorded)."""
    if body is None:
        return [], None
    document = json.loads(body)
    entries = [Indexed(e["version"], parse_time(e["committed_at"]), e["committed_at"])
               for e in document["checkpoints"]]
    return entries, document.get("first_committed_at")


def fetch_all(fetch: Fetch, keys: list[str], workers: int = FETCH_WORKERS) -> list[bytes | None]:
    """GET the keys side by side (S3's latency paid about once per `workers` keys, not once per key)."""
    if len(keys) <= 1:
        return [fetch(k) for k in keys]
    with ThreadPoolExecutor(max_workers=min(workers, len(keys))) as pool:
        return list(pool.map(fetch, keys))
