"""`GET /api/changes?since=<version>`: every change published after a version, oldest first, a page at a time.

A client holding llms.json of version N asks with since=N and applies each change's `record` (null:
removed) to its copy, in order: it then holds exactly the current models, for one small answer
instead of the whole list. Each change carries its version, the model's whole record after it (the
log's, benchmarks and updated_at included) and its events in the shape of changes.json. Read from
the log of versions; a page spans at most PAGE_VERSIONS logs (fetched side by side) and `limit`
changes, and `next` continues where it stopped. A `since` before the retained log is a 410: the
changes are gone, so reload llms.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from publisher.core import identity
from publisher.core.events import events_for
from publisher.core.history import canonical
from publisher.core.replay import CHECKPOINT_EVERY
from publisher.read.errors import BadRequest, Gone
from publisher.read.query import MAX_VERSION, MIN_VERSION, _integer, min_version, parse_pairs
from publisher.read.versions import VersionLog

SINCE = "since"
LIMIT = "limit"
CURSOR = "cursor"
PARAMETERS = (SINCE, LIMIT, CURSOR, MIN_VERSION)
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
# Logs one page reads at most: one round of parallel GETs, like a cold as-of read.
PAGE_VERSIONS = CHECKPOINT_EVERY
MAX_CHANGES_CURSOR_LEN = 32
# `<version>.<offset>`: the next change is the offset-th of that version's log.
# The OpenAPI parameter states the same pattern.
CURSOR_PATTERN = r"(\d{1,12})\.(\d{1,6})"
_CURSOR = re.compile(CURSOR_PATTERN)


@dataclass(frozen=True)
class ChangesQuery:
    since: int
    limit: int = DEFAULT_LIMIT
    start: tuple[int, int] | None = None  # from a cursor: (version, offset)
    min_version: int | None = None


def parse_changes_query(raw_query: str) -> ChangesQuery:
    """since (required), limit, cursor and min_version, or a 400 naming the parameter."""
    values: dict[str, str] = {}
    for key, value in parse_pairs(raw_query):
        if key not in PARAMETERS:
            raise BadRequest("unknown_parameter", f"unknown parameter {key!r}; accepted: {', '.join(PARAMETERS)}",
                             key)
        if key in values:
            raise BadRequest("repeated_parameter", f"{key} may be given at most once", key)
        values[key] = value
    if SINCE not in values:
        raise BadRequest("missing_parameter", f"{SINCE} is required: the version of the llms.json you hold "
                         "(0 for everything retained)", SINCE)
    since = _integer(values[SINCE], SINCE, 0, MAX_VERSION)
    limit = _integer(values[LIMIT], LIMIT, 1, MAX_LIMIT) if LIMIT in values else DEFAULT_LIMIT
    start = None
    if CURSOR in values:
        found = _CURSOR.fullmatch(values[CURSOR])
        if found is None or int(found.group(1)) <= since:
            raise BadRequest("invalid_cursor", f"{CURSOR} must be the `next` of a page of the same {SINCE}",
                             CURSOR)
        start = (int(found.group(1)), int(found.group(2)))
    return ChangesQuery(since, limit, start, min_version(raw_query))


@dataclass(frozen=True)
class _Logged:
    """A change as the log holds it, seen as an applied change (events.py derives its events)."""

    key: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    at: str
    sequence: str | None
    source: str


def change_item(version: int, change: dict[str, Any]) -> dict[str, Any]:
    applied = _Logged(change["model_name"], change["old"], change["new"], change["at"], change["sequence"],
                      change["source"])
    return {
        "version": version,
        "model_name": applied.key,
        "slug": identity.key(applied.key),
        "at": applied.at,
        "sequence": applied.sequence,
        "source": applied.source,
        "record": applied.new,
        "events": [canonical(e) for e in events_for(applied, version)],
    }


def changes_page(log: VersionLog, query: ChangesQuery, current: int) -> bytes:
    """One page of the answer for a server whose newest snapshot is `current`."""
    retained = log.retained(current) if current > query.since else None
    if retained is not None and query.since < retained[0]:
        raise Gone("since_not_retained", f"{SINCE}={query.since} is older than the retained log of versions, "
                   f"which starts after version {retained[0]}: reload /llms.json and ask again with its "
                   "version", SINCE)
    version, offset = query.start or (query.since + 1, 0)
    items: list[dict[str, Any]] = []
    following: str | None = None
    last = min(current, version + PAGE_VERSIONS - 1)
    if version <= last:
        for logged in log.logs(version, last):
            skip = offset if logged.version == version else 0
            for position, change in enumerate(logged.changes[skip:], start=skip):
                if len(items) == query.limit:
                    following = f"{logged.version}.{position}"
                    break
                items.append(change_item(logged.version, change))
            if following:
                break
        if following is None and last < current:
            following = f"{last + 1}.0"
    document = {"since": query.since, "version": current, "count": len(items), "changes": items,
                "next": following}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
