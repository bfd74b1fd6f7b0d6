"""The catalogue at any retained version or instant, from the newest checkpoint before it and the logs after.

A cold read fetches the checkpoint index, one checkpoint and at most CHECKPOINT_EVERY - 1 logs, the
latter two side by side (publisher/core/replay.py), so its cost is bounded however long the history.
What was fetched is kept within bounds: the commit time of every version seen (a few bytes each), the
parsed logs up to LOG_CHANGES_KEPT changes, the models of the last STATES_KEPT versions and the
catalogues of the last CATALOGUES_KEPT versions asked for, replayed forward from the nearest one.
Retention (infra/data.tf expires logs and checkpoints after `retention_days`): an object whose version
committed less than that long ago is certainly still there, so the answerable range starts at version
1 while it is that young, else at the oldest checkpoint that is.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from publisher.core.documents import dumps, log_key
from publisher.core.model import sort_key
from publisher.core.replay import (
    CHECKPOINT_EVERY,
    CHECKPOINT_INDEX_KEY,
    FETCH_WORKERS,
    Fetch,
    Indexed,
    Logged,
    Models,
    apply,
    checkpoint_key,
    fetch_all,
    parse_index,
    parse_log,
    parse_time,
    split_checkpoint,
)
from publisher.read import records
from publisher.read.as_of import (
    _NOTHING_YET,
    AS_OF,
    AS_OF_RESPONSE_BYTES,
    CATALOGUES_KEPT,
    SOURCE_LOG,
    _iso_ms,
    _range_text,
)
from publisher.read.catalogue import Catalogue
from publisher.read.errors import BadRequest, Unavailable

# Parsed log changes kept between reads (a change with both records is about 1 KB parsed): a bulk
# seed's log of 10k adds fits, and the memory stays a small part of the function's.
LOG_CHANGES_KEPT = 20_000
# Replayed models kept, by version: each one from another checkpoint is 10k parsed records (about
# 15 MB at 10k models), so fewer than the catalogues (their records are bytes, not dicts).
STATES_KEPT = 4


class VersionLog:
    """The retained versions as checkpointed and logged, loaded on demand, and catalogues rebuilt from them."""

    def __init__(self, fetch: Fetch, now: Callable[[], datetime], retention_days: int | None = None,
                 workers: int = FETCH_WORKERS) -> None:
        self._fetch = fetch
        self._now = now
        self.retention_days = retention_days
        self._workers = workers
        self._lock = threading.Lock()
        self._times: dict[int, tuple[datetime, str]] = {}
        self._logs: OrderedDict[int, Logged] = OrderedDict()
        self._log_changes = 0
        self._index: list[Indexed] = []
        self._index_for = -1
        self._first: datetime | None = None
        self._states: OrderedDict[int, Models] = OrderedDict()
        self._catalogues: OrderedDict[int, Catalogue] = OrderedDict()
        # Each name's newest record seen and its bytes as the publisher encodes it: a catalogue built
        # from a checkpoint re-encodes only the records the logs after it changed.
        self._encoded: dict[str, tuple[dict[str, Any], bytes]] = {}

    def _refresh_index(self, current: int) -> None:
        """Read the index again when a checkpoint newer than the ones listed may exist for `current`."""
        newest = self._index[-1].version if self._index else 0
        if self._index_for == current or (self._index_for >= 0 and current - current % CHECKPOINT_EVERY <= newest):
            return
        entries, first = parse_index(self._fetch(CHECKPOINT_INDEX_KEY))
        self._index, self._index_for = entries, current
        if first is not None and self._first is None:
            self._first = parse_time(first)

    def _keep_log(self, logged: Logged) -> None:
        self._times[logged.version] = (logged.committed_at, logged.committed_text)
        self._logs[logged.version] = logged
        self._log_changes += len(logged.changes)
        while self._log_changes > LOG_CHANGES_KEPT and len(self._logs) > 1:
            _, dropped = self._logs.popitem(last=False)
            self._log_changes -= len(dropped.changes)

    def _load(self, versions: list[int], checkpoint: int = 0) -> tuple[dict[int, Logged], bytes | None]:
        """The logs of `versions` (fetching those not kept side by side, with the checkpoint of
        `checkpoint` when given, whose bytes are returned)."""
        have = {v: self._logs[v] for v in versions if v in self._logs}
        wanted = [v for v in versions if v not in have]
        keys = ([checkpoint_key(checkpoint)] if checkpoint else []) + [log_key(v) for v in wanted]
        bodies = fetch_all(self._fetch, keys, self._workers)
        found = bodies[1:] if checkpoint else bodies
        for version, body in zip(wanted, found, strict=True):
            if body is None:
                raise Unavailable("history_unavailable", f"the log of version {version} cannot be read; "
                                  "retry shortly")
            have[version] = parse_log(version, body)
            self._keep_log(have[version])
        for version in versions:
            if version in self._logs:
                self._logs.move_to_end(version)
        return have, (bodies[0] if checkpoint else None)

    def _first_commit(self) -> datetime | None:
        if self._first is None:
            body = self._fetch(log_key(1))
            if body is not None:
                self._first = parse_log(1, body).committed_at
        return self._first

    def retained(self, current_version: int) -> tuple[int, datetime] | None:
        """The first answerable version and its commit time (version 0 stands for the empty catalogue
        before version 1, whose commit starts the range); None before the first version."""
        if current_version < 1:
            return None
        with self._lock:
            self._refresh_index(current_version)
            horizon = self._now() - timedelta(days=self.retention_days) if self.retention_days else None
            first = self._first_commit()
            if first is not None and (horizon is None or first >= horizon):
                return 0, first
            kept = [e for e in self._index if horizon is None or e.committed_at >= horizon]
            if not kept:
                raise Unavailable("history_unavailable", "no retained checkpoint can be read; retry shortly")
            return kept[0].version, kept[0].committed_at

    def available(self, current_version: int) -> tuple[datetime, datetime] | None:
        """The range of instants answerable: the first retained commit to now; None before the first version."""
        span = self.retained(current_version)
        return None if span is None else (span[1], self._now())

    def window(self, current_version: Callable[[], int]) -> str:
        """The answerable range in words, for a 400 that names it; never raises (it explains an error)."""
        try:
            span = self.available(current_version())
        except Exception:  # noqa: BLE001 - the range is a hint in an error message; the 400 stands
            return "the available range cannot be read right now"
        return _NOTHING_YET if span is None else _range_text(*span)

    def version_at(self, instant: datetime, current_version: int) -> int:
        """The newest version committed at or before `instant`, a 400 outside the retained range."""
        retained = self.retained(current_version)
        if retained is None:
            raise BadRequest("as_of_out_of_range", _NOTHING_YET, AS_OF)
        floor, first = retained
        now = self._now()
        window = _range_text(first, now)
        if instant < first:
            raise BadRequest("as_of_out_of_range", f"{AS_OF} {_iso_ms(instant)} is before the retained "
                             f"history; {window}", AS_OF)
        if instant > now:
            raise BadRequest("as_of_out_of_range", f"{AS_OF} {_iso_ms(instant)} is in the future; {window}",
                             AS_OF)
        with self._lock:
            listed = [e for e in self._index if floor <= e.version <= current_version]
            base = max((e.version for e in listed if e.committed_at <= instant), default=floor)
            upper = min((e.version - 1 for e in listed if e.version > base), default=current_version)
            found = base
            for start in range(base + 1, upper + 1, CHECKPOINT_EVERY):
                versions = list(range(start, min(start + CHECKPOINT_EVERY, upper + 1)))
                unknown = [v for v in versions if v not in self._times]
                if unknown:
                    # The checkpoint the replay will start from travels with the first logs.
                    prefetch = base if start == base + 1 and base and base not in self._states else 0
                    _, body = self._load(unknown, prefetch)
                    if body is not None:
                        self._keep_state(*self._parse_checkpoint(body))
                for version in versions:
                    if self._times[version][0] > instant:
                        return found
                    found = version
            return found

    def _keep_state(self, head: Indexed, models: Models) -> None:
        self._states[head.version] = models
        self._times.setdefault(head.version, (head.committed_at, head.committed_text))
        while len(self._states) > STATES_KEPT:
            self._states.popitem(last=False)

    def _base(self, version: int) -> tuple[int, Models]:
        """The nearest kept state or retained checkpoint at or before `version`, as a copy to move forward."""
        if self._index_for < version:
            self._refresh_index(version)
        kept = max((v for v in self._states if v <= version), default=-1)
        listed = sorted((e.version for e in self._index if kept < e.version <= version), reverse=True)
        for candidate in listed:
            body = self._fetch(checkpoint_key(candidate))
            if body is not None:  # else indexed but its write is still in flight: the one before it
                self._keep_state(*self._parse_checkpoint(body))
                return candidate, dict(self._states[candidate])
        if kept >= 0:
            return kept, dict(self._states[kept])
        if not self.retention_days:
            return 0, {}
        first = self._first_commit()
        if first is not None and first >= self._now() - timedelta(days=self.retention_days):
            return 0, {}
        raise Unavailable("history_unavailable", f"no checkpoint before version {version} can be read; "
                          "retry shortly")

    def models(self, version: int) -> Models:
        """The committed models of `version` (a fresh dict the caller may keep)."""
        with self._lock:
            return dict(self._models(version))

    def _models(self, version: int) -> Models:
        if version in self._states:
            self._states.move_to_end(version)
            return self._states[version]
        base, models = self._base(version)
        for start in range(base + 1, version + 1, CHECKPOINT_EVERY):
            versions = list(range(start, min(start + CHECKPOINT_EVERY, version + 1)))
            logs, _ = self._load(versions)
            for v in versions:
                apply(models, logs[v].changes)
        self._states[version] = models
        while len(self._states) > STATES_KEPT:
            self._states.popitem(last=False)
        return models

    def catalogue(self, version: int) -> Catalogue:
        """The catalogue of `version`, replayed from the nearest state or checkpoint before it."""
        with self._lock:
            kept = self._catalogues.get(version)
            if kept is not None:
                self._catalogues.move_to_end(version)
                return kept
            models = self._models(version)
            committed = self._times[version][1] if version else "1970-01-01T00:00:00Z"
            built = Catalogue(version, committed, self._records(models), SOURCE_LOG,
                              response_budget=AS_OF_RESPONSE_BYTES)
            self._catalogues[version] = built
            while len(self._catalogues) > CATALOGUES_KEPT:
                self._catalogues.popitem(last=False)
            return built

    def _parse_checkpoint(self, body: bytes) -> tuple[Indexed, Models]:
        """A checkpoint's models, each record's bytes kept as they stand in it (no re-encoding later)."""
        head, pieces = split_checkpoint(body)
        models: Models = {}
        for piece in pieces:
            record = json.loads(piece)
            models[record["model_name"]] = record
            self._encoded[record["model_name"]] = (record, piece)
        return head, models

    def _records(self, models: Models) -> records.Records:
        ordered = sorted(models.values(), key=sort_key)
        pieces = []
        for record in ordered:
            known = self._encoded.get(record["model_name"])
            if known is None or known[0] is not record:
                known = self._encoded[record["model_name"]] = (record, dumps(record))
            pieces.append(known[1])
        return records.from_records(ordered, pieces)

    def logs(self, first: int, last: int) -> list[Logged]:
        """The logs of versions first..last (fetched side by side), oldest first."""
        with self._lock:
            versions = list(range(first, last + 1))
            logs, _ = self._load(versions)
            return [logs[v] for v in versions]
