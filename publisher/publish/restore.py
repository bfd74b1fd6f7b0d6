"""Restore: publish version N's catalogue again, as a new version, through the publisher's committed path.

Version N's catalogue is rebuilt from the newest checkpoint at or before N and the version log after
it (core/replay.py, the replay the read API's as-of reads use), after checking that it replays on to
the committed state: a log with a gap could not rebuild N either. Starting from a checkpoint keeps a
restore's cost bounded as the history grows, and keeps it possible once the oldest logs expire. The
restore is then one more publish (conditional state write, render, writes, llms.json last) whose
changes carry the source "restore": versions still only move forward, the log gets the restore's own
entry (so it still replays to every published version), histories and the change feed record the
models it changed back. Finally every provider document version N did not have is removed. Running
it again finds the catalogue already equal to N's and writes nothing.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from publisher.core import identity
from publisher.core.clock import iso
from publisher.core.config import PRIVATE_PREFIX
from publisher.core.documents import log_key, provider_summaries
from publisher.core.replay import (
    CHECKPOINT_INDEX_KEY,
    Logged,
    Models,
    apply,
    checkpoint_key,
    parse_index,
    parse_log,
    parse_time,
)
from publisher.publish.feed import LOG_PENDING_KEY
from publisher.publish.publisher import Publisher
from publisher.publish.state import Change, State
from publisher.publish.store import SiteStore

SOURCE = "restore"
# Names listed per kind of change in a report (the counts are always whole).
REPORTED_NAMES = 50
LOG_READERS = 16
# The documents a publish with changes rewrites besides the provider documents (what a dry run lists).
CATALOGUE_KEYS = ("llms.json", "llms", "index.html", "changes.json", "changes.xml")


class RestoreError(RuntimeError):
    """Version N cannot be restored (out of range, or the log cannot rebuild it); nothing was written."""


@dataclass
class Report:
    """What a restore did (or, in a dry run, would do)."""

    target: int
    from_version: int
    to_version: int
    dry_run: bool
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def nothing_to_do(self) -> bool:
        return not (self.added or self.removed or self.changed or self.written or self.deleted)

    def as_dict(self) -> dict[str, Any]:
        def names(values: list[str]) -> dict[str, Any]:
            return {"count": len(values), "names": sorted(values)[:REPORTED_NAMES]}

        return {"restored_version": self.target, "from_version": self.from_version, "to_version": self.to_version,
                "dry_run": self.dry_run, "nothing_to_do": self.nothing_to_do, "models_added": names(self.added),
                "models_removed": names(self.removed), "models_changed": names(self.changed),
                "keys_written": sorted(self.written), "keys_removed": sorted(self.deleted)}


def _checkpoint(store: SiteStore, target: int) -> tuple[int, Models]:
    """The newest readable checkpoint at or before `target` (version 0 and no models: none)."""
    entries, _ = parse_index(store.get_bytes(CHECKPOINT_INDEX_KEY))
    for entry in sorted((e for e in entries if e.version <= target), key=lambda e: e.version, reverse=True):
        body = store.get_bytes(checkpoint_key(entry.version))
        if body is not None:  # else listed while its write is in flight: the one before it
            return entry.version, {m["model_name"]: m for m in json.loads(body)["models"]}
    return 0, {}


def _logs(store: SiteStore, state: State, first: int) -> list[Logged]:
    """The logs first..state.version; an entry whose object has not landed yet is read from the state."""
    pending = {int(e["version"]): e for e in state.extra.get(LOG_PENDING_KEY, [])}
    versions = range(first, state.version + 1)
    with ThreadPoolExecutor(max_workers=LOG_READERS) as pool:
        bodies = list(pool.map(lambda v: store.get_bytes(log_key(v)), versions))
    logs = []
    for version, body in zip(versions, bodies, strict=True):
        if body is not None:
            logs.append(parse_log(version, body))
        elif version in pending:
            entry = pending[version]
            logs.append(Logged(version, parse_time(entry["committed_at"]), entry["committed_at"], entry["changes"]))
        else:
            raise RestoreError(f"the version log has no entry for version {version} ({log_key(version)}): "
                               "no version can be rebuilt exactly past that gap")
    return logs


def catalogue_at(store: SiteStore, state: State, target: int) -> dict[str, dict[str, Any]]:
    """Version `target`'s catalogue, replayed from a checkpoint and the log, once that is known to replay
    on to `state`."""
    if not 1 <= target <= state.version:
        raise RestoreError(f"version {target} was never published: versions run from 1 to {state.version}")
    base, models = _checkpoint(store, target)
    logs = _logs(store, state, base + 1)
    for logged in logs[:target - base]:
        apply(models, logged.changes)
    current = {name: dict(record) for name, record in models.items()}
    for logged in logs[target - base:]:
        apply(current, logged.changes)
    if current != state.models:
        drift = sorted(set(current) ^ set(state.models)
                       | {n for n in set(current) & set(state.models) if current[n] != state.models[n]})
        raise RestoreError(f"the version log does not replay to the committed state (version {state.version}; "
                           f"{len(drift)} model(s) differ, e.g. {drift[:3]}): refusing to restore from it")
    return models


def to_catalogue(state: State, models: dict[str, dict[str, Any]], at: str) -> tuple[list[Change], list[Any]]:
    """A mutation for Publisher._transact: the state's catalogue becomes `models`, as changes from "restore"."""
    changes = [Change(name, state.models.get(name), models.get(name), at, None, SOURCE)
               for name in sorted(set(state.models) | set(models)) if state.models.get(name) != models.get(name)]
    for change in changes:
        if change.new is None:
            state.tombstones[change.key] = at  # prunes its stream sequence in time, as a delete does
        else:
            state.tombstones.pop(change.key, None)
    state.models = {name: dict(record) for name, record in models.items()}
    return changes, []


def _public_etags(store: SiteStore) -> dict[str, str]:
    """Every public key and its ETag (the private prefix is never listed: it is not the site)."""
    found: dict[str, str] = {}
    paginator = store.s3.get_paginator("list_objects_v2")
    prefixes = [""]
    for page in paginator.paginate(Bucket=store.bucket, Delimiter="/"):
        found.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", []) if p["Prefix"] != PRIVATE_PREFIX]
    for prefix in prefixes[1:]:
        for page in paginator.paginate(Bucket=store.bucket, Prefix=prefix):
            found.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
    return found


def _provider_keys(models: dict[str, dict[str, Any]]) -> set[str]:
    return {identity.provider_key(p["name"]) for p in provider_summaries(list(models.values()))}


def _extra_provider_keys(existing: dict[str, str], models: dict[str, dict[str, Any]]) -> list[str]:
    wanted = _provider_keys(models)
    return sorted(k for k in existing if k.startswith(identity.PROVIDERS_PREFIX) and k not in wanted)


def _remove(store: SiteStore, keys: list[str], existing: dict[str, str], version: int) -> list[str]:
    """Delete each key unless a newer publish rewrote it since it was listed (If-Match on its ETag)."""
    from botocore.exceptions import ClientError

    from publisher.core.aws import S3_CONFLICT, S3_MISSING, error_code

    removed = []
    for key in keys:
        current = store.head(key)
        if current is None or current.version > version:
            continue
        try:
            store.s3.delete_object(Bucket=store.bucket, Key=key, IfMatch=existing[key])
        except ClientError as exc:
            if error_code(exc) in S3_CONFLICT | S3_MISSING:
                continue
            raise
        removed.append(key)
    return removed


def restore(pub: Publisher, target: int, dry_run: bool = False) -> Report:
    """Publish version `target`'s catalogue as a new version (or report what that would do)."""
    store = pub.store
    state, etag = store.load_state()
    if etag is None:
        raise RestoreError("nothing has been published yet")
    models = catalogue_at(store, state, target)
    report = Report(target, state.version, state.version, dry_run)
    report.added = [n for n in models if n not in state.models]
    report.removed = [n for n in state.models if n not in models]
    report.changed = [n for n in models if n in state.models and models[n] != state.models[n]]
    before = _public_etags(store)
    published = store.head("llms.json")
    behind = published is None or published.version < state.version
    if dry_run:
        if report.added or report.removed or report.changed or behind:
            report.to_version = state.version + bool(report.added or report.removed or report.changed)
            # Every document of the catalogue carries the version: a publish rewrites each of them.
            report.written = sorted({*CATALOGUE_KEYS, *_provider_keys(models)})
        report.deleted = _extra_provider_keys(before, models)
        return report
    if report.added or report.removed or report.changed or behind:
        at = iso(pub.now())
        result = pub.restore(lambda fresh: to_catalogue(fresh, models, at))
        report.to_version = result.version
    after = _public_etags(store)
    # The publish removes the provider documents of the providers it dropped; any other one N lacked
    # (left by a failed publish, or from an older layout) goes now.
    swept = _remove(store, _extra_provider_keys(after, models), after, report.to_version)
    report.deleted = sorted((set(before) - set(after)) | set(swept))
    report.written = [k for k, tag in after.items() if before.get(k) != tag and k not in swept]
    return report
