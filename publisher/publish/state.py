"""The publisher's state: the current catalogue plus the bookkeeping that makes replays idempotent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from publisher.core import identity
from publisher.core.clock import EPOCH, iso, parse_iso
from publisher.core.heartbeat import is_heartbeat
from publisher.core.identity import collision
from publisher.core.model import FIELDS, InvalidItem, Rejected, to_record

STATE_SCHEMA = 1
# DynamoDB Streams keep records for 24 hours; a tombstone older than that can never be replayed.
TOMBSTONE_TTL = timedelta(hours=25)
# How long the state remembers when the stream last changed a key: longer than any rebuild runs
# (a scan of 100k items takes about a minute), so a rebuild can tell a key the stream moved while it
# scanned from drift it must repair.
RECENT_TTL = timedelta(minutes=30)
# The stream's ApproximateCreationDateTime is rounded (to the second by default) and the table's
# clock is not the Lambda's: a key the stream changed this close before a scan began counts as
# changed during it.
SCAN_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True)
class StreamChange:
    """One stream record reduced to what the publisher needs."""

    key: str
    sequence: str
    event_name: str  # INSERT | MODIFY | REMOVE
    new_item: dict[str, Any] | None
    at: str  # ISO time the change was made (ApproximateCreationDateTime)
    old_item: dict[str, Any] | None = None


@dataclass(frozen=True)
class Change:
    """A change to the published catalogue: `old`/`new` are records (None when absent)."""

    key: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    at: str
    sequence: str | None
    source: str  # "stream" | "reconcile"


@dataclass
class State:
    version: int = 0
    generated_at: str = EPOCH
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    sequences: dict[str, str] = field(default_factory=dict)
    tombstones: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # key -> time of the last stream change applied to it, kept for RECENT_TTL (see reconcile).
    recent: dict[str, str] = field(default_factory=dict)
    # Content hash of the bytes this state was read from (not part of them): an unchanged state is
    # not written again.
    source_digest: str | None = field(default=None, compare=False, repr=False)

    def to_bytes(self) -> bytes:
        doc = {
            "schema": STATE_SCHEMA,
            "version": self.version,
            "generated_at": self.generated_at,
            "models": self.models,
            "sequences": self.sequences,
            "tombstones": self.tombstones,
            "extra": self.extra,
            "recent": self.recent,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> State:
        doc = json.loads(body)
        if doc.get("schema") != STATE_SCHEMA:
            raise ValueError(f"unknown state schema {doc.get('schema')!r}")
        return cls(
            version=int(doc["version"]),
            generated_at=doc["generated_at"],
            # The bytes keep keys sorted; a record is published in FIELDS order, so a state read
            # back must render the same bytes as the one that was written.
            models={name: ordered(record) for name, record in doc["models"].items()},
            sequences=doc["sequences"],
            tombstones=doc.get("tombstones", {}),
            extra=doc.get("extra", {}),
            recent=doc.get("recent", {}),
        )


def ordered(record: dict[str, Any]) -> dict[str, Any]:
    """A record with its fields in the published order (model.FIELDS)."""
    return {f: record[f] for f in FIELDS if f in record}


class KeyGuard:
    """Refuses a record whose model or provider name would share a key with another published name.

    The maps are built on the first new name only: updates to known models never pay for them.
    """

    def __init__(self, models: dict[str, dict[str, Any]]) -> None:
        self.models = models
        self._model_keys: dict[str, str] | None = None
        self._provider_keys: dict[str, str] = {}

    def _build(self) -> None:
        self._model_keys = {identity.key(name): name for name in sorted(self.models)}
        for record in sorted(self.models.values(), key=lambda r: r["model_name"]):
            self._provider_keys.setdefault(identity.key(record["provider"]), record["provider"])

    def check(self, record: dict[str, Any]) -> None:
        """Raise InvalidItem if `record` collides; otherwise remember its keys."""
        name, provider = record["model_name"], record["provider"]
        known = self.models.get(name)
        if known is not None and known["provider"] == provider:
            return
        if self._model_keys is None:
            self._build()
        assert self._model_keys is not None
        other = collision(name, self._model_keys) if known is None else None
        if other is not None:
            raise InvalidItem(name, f"model_name shares its key {identity.key(name)!r} with {other!r}; rename one")
        other = collision(provider, self._provider_keys)
        if other is not None:
            raise InvalidItem(name, f"provider {provider!r} shares its key {identity.key(provider)!r} with {other!r}")
        self._model_keys.setdefault(identity.key(name), name)
        self._provider_keys.setdefault(identity.key(provider), provider)


def _newer(sequence: str, seen: str | None) -> bool:
    # Sequence numbers of one key's changes increase (same shard, or a child shard of it).
    return seen is None or int(sequence) > int(seen)


def apply_changes(
    state: State, changes: list[StreamChange]
) -> tuple[list[Change], list[Rejected]]:
    """Apply stream changes in order; stale or replayed ones (sequence not newer) are skipped."""
    applied: list[Change] = []
    rejected: list[Rejected] = []
    guard = KeyGuard(state.models)
    for change in changes:
        if not _newer(change.sequence, state.sequences.get(change.key)):
            continue
        state.sequences[change.key] = change.sequence
        state.recent[change.key] = max(change.at, state.recent.get(change.key, change.at))
        old = state.models.get(change.key)
        new: dict[str, Any] | None = None
        if change.new_item is None:
            state.tombstones[change.key] = change.at
        else:
            state.tombstones.pop(change.key, None)
            try:
                new = to_record(change.new_item)
                if new["model_name"] != change.key:
                    raise InvalidItem(change.key, "model_name does not match the record key")
                guard.check(new)
            except InvalidItem as exc:
                rejected.append(Rejected(change.key, exc.reason))
                new = None
        if new is None:
            state.models.pop(change.key, None)
        else:
            state.models[change.key] = new
        if old != new:
            applied.append(Change(change.key, old, new, change.at, change.sequence, "stream"))
    return applied, rejected


def reconcile(
    state: State, items: list[dict[str, Any]], at: str, scan_started: str | None = None
) -> tuple[list[Change], list[Rejected]]:
    """Make the state equal a full scan of the table; return the drift it repaired.

    A key the stream changed after `scan_started` (less SCAN_MARGIN) keeps the state's value: the
    scan may have read it before that change, and the stream, not the scan, knows the order of a
    key's writes. Reverting it would publish an older value until the next reconcile.
    """
    racing: set[str] = set()
    if scan_started is not None:
        since = iso(parse_iso(scan_started) - SCAN_MARGIN)
        racing = {k for k, changed in state.recent.items() if changed >= since}
    desired: dict[str, dict[str, Any]] = {k: state.models[k] for k in racing if k in state.models}
    rejected: list[Rejected] = []
    records: list[dict[str, Any]] = []
    for item in items:
        if is_heartbeat(item.get("model_name")):
            # The canary's heartbeat is published from the stream only: a rebuild that published it
            # would hide a stalled stream from the canary.
            continue
        try:
            records.append(to_record(item))
        except InvalidItem as exc:
            rejected.append(Rejected(exc.key, exc.reason))
    # Names already published keep their keys; newcomers are checked in name order.
    kept = {r["model_name"]: r for r in records if r["model_name"] in state.models}
    guard = KeyGuard({name: state.models[name] for name in {*kept, *desired}})
    for record in sorted(records, key=lambda r: (r["model_name"] not in kept, r["model_name"])):
        if record["model_name"] in racing:
            continue
        try:
            guard.check(record)
        except InvalidItem as exc:
            rejected.append(Rejected(exc.key, exc.reason))
            continue
        desired[record["model_name"]] = record
    drift: list[Change] = []
    for key in sorted(set(state.models) | set(desired)):
        old, new = state.models.get(key), desired.get(key)
        if old != new:
            drift.append(Change(key, old, new, at, None, "reconcile"))
    state.models = desired
    return drift, rejected


def commit(state: State, changes: list[Change], now: datetime) -> None:
    """Move the version forward for a non-empty set of changes and prune expired tombstones."""
    if not changes:
        return
    state.version += 1
    latest = max(change.at for change in changes)
    state.generated_at = max(state.generated_at, latest)
    horizon = iso(now - TOMBSTONE_TTL)
    for key, removed_at in list(state.tombstones.items()):
        if removed_at < horizon:
            del state.tombstones[key]
            state.sequences.pop(key, None)
    recent_horizon = iso(now - RECENT_TTL)
    for key, changed in list(state.recent.items()):
        if changed < recent_horizon:
            del state.recent[key]
