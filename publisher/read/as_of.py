"""As-of reads: the catalogue exactly as published at an instant, replayed from the log of versions.

Every version N has one immutable log object (`internal/log/<N>.json`, written by the publisher's
changelog.py) with its commit time and each change's whole record before and after; the logs 1..N replayed from an empty
catalogue give exactly version N. An instant T reads the newest version committed at or before T.
Logs never change once written, so each is fetched once per instance and kept parsed, and the
replay moves forward from the newest state already built at or before the version asked for.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from publisher.core import version_log
from publisher.core.documents import log_key
from publisher.read.catalogue import RESPONSE_CACHE_BYTES, Catalogue
from publisher.read.errors import BadRequest, Unavailable

AS_OF = "as_of"
SOURCE_LOG = "log"
MAX_AS_OF_LEN = 64
# Catalogues kept per version (an as-of read of a hot instant costs no replay after the first).
CATALOGUES_KEPT = 8
# The kept catalogues share one response budget, so as-of reads at most double what the read
# function memoises (the current snapshot's RESPONSE_CACHE_BYTES, and as much again in all of these).
AS_OF_RESPONSE_BYTES = RESPONSE_CACHE_BYTES // CATALOGUES_KEPT
# A date, a 'T', a time (seconds and a fraction optional), then Z or an offset: a bare date or a
# naive time would leave the instant to the reader's guess.
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})")


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_NOTHING_YET = "nothing has been published yet, so no instant can be read"


def _range_text(first: datetime, now: datetime) -> str:
    """The answerable range as every as_of 400 words it."""
    return f"the available range is {_iso_ms(first)} to now ({_iso_ms(now)})"


def parse_instant(raw: str, window: Callable[[], str] | None = None) -> datetime:
    """An ISO 8601 instant with its offset, or a 400 naming as_of (and the range `window` states)."""
    where = f"; {window()}" if window is not None else ""
    if len(raw) > MAX_AS_OF_LEN or not _INSTANT.fullmatch(raw):
        raise BadRequest("invalid_as_of", f"{AS_OF} must be an ISO 8601 instant with its offset, e.g. "
                         f"2026-01-31T12:00:00Z or 2026-01-31T13:00:00.250+01:00{where}", AS_OF)
    fraction = re.search(r"\.(\d+)", raw)
    text = raw.upper().replace("Z", "+00:00")  # RFC 3339 allows a lower-case t and z
    if fraction and len(fraction.group(1)) > 6:  # datetime keeps microseconds; finer digits do not matter
        text = text.replace(fraction.group(0), fraction.group(0)[:7])
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise BadRequest("invalid_as_of", f"{AS_OF} {raw!r} is not a valid date and time{where}", AS_OF) from None
    except OverflowError:  # a valid local time whose offset moves it past year 1 or 9999 in UTC
        raise BadRequest("invalid_as_of", f"{AS_OF} {raw!r} is outside the years 1 to 9999 in UTC{where}",
                         AS_OF) from None


class VersionLog:
    """The versions 1..current as logged, loaded on demand, and catalogues rebuilt from them."""

    def __init__(self, fetch: Callable[[str], bytes | None], now: Callable[[], datetime]) -> None:
        self._fetch = fetch
        self._now = now
        self._logs: list[version_log.LoggedVersion] = []
        self._lock = threading.Lock()
        self._states: OrderedDict[int, dict[str, dict[str, Any]]] = OrderedDict()
        self._catalogues: OrderedDict[int, Catalogue] = OrderedDict()

    def _load_through(self, version: int) -> None:
        while len(self._logs) < version:
            wanted = len(self._logs) + 1
            body = self._fetch(log_key(wanted))
            if body is None:
                raise Unavailable("history_unavailable", f"the log of version {wanted} cannot be read; "
                                  "retry shortly")
            self._logs.append(version_log.parse_bytes(body))

    def available(self, current_version: int) -> tuple[datetime, datetime] | None:
        """The range of instants answerable: the first commit to now; None before the first version."""
        if current_version < 1:
            return None
        with self._lock:
            self._load_through(1)
            return self._logs[0].committed_at, self._now()

    def window(self, current_version: Callable[[], int]) -> str:
        """The answerable range in words, for a 400 that names it; never raises (it explains an error)."""
        try:
            span = self.available(current_version())
        except Exception:  # noqa: BLE001 - the range is a hint in an error message; the 400 stands
            return "the available range cannot be read right now"
        return _NOTHING_YET if span is None else _range_text(*span)

    def version_at(self, instant: datetime, current_version: int) -> int:
        """The newest version committed at or before `instant` (0: none yet), a 400 outside the range."""
        span = self.available(current_version)
        if span is None:
            raise BadRequest("as_of_out_of_range", _NOTHING_YET, AS_OF)
        first, now = span
        window = _range_text(first, now)
        if instant < first:
            raise BadRequest("as_of_out_of_range", f"{AS_OF} {_iso_ms(instant)} is before the retained "
                             f"history; {window}", AS_OF)
        if instant > now:
            raise BadRequest("as_of_out_of_range", f"{AS_OF} {_iso_ms(instant)} is in the future; {window}",
                             AS_OF)
        with self._lock:
            self._load_through(current_version)
            low, high = 0, current_version  # invariant: logs[:low] are committed at or before instant
            while low < high:
                middle = (low + high) // 2
                if self._logs[middle].committed_at <= instant:
                    low = middle + 1
                else:
                    high = middle
            return low

    def catalogue(self, version: int) -> Catalogue:
        """The catalogue of `version`, replayed from the nearest state built before it."""
        with self._lock:
            kept = self._catalogues.get(version)
            if kept is not None:
                self._catalogues.move_to_end(version)
                return kept
            self._load_through(version)
            base = max((v for v in self._states if v <= version), default=0)
            models = version_log.replay(dict(self._states[base]) if base else {}, self._logs[base:version])
            self._states[version] = models
            while len(self._states) > CATALOGUES_KEPT:
                self._states.popitem(last=False)
            committed = self._logs[version - 1].committed_text if version else "1970-01-01T00:00:00Z"
            built = Catalogue.from_records(version, committed, list(models.values()), SOURCE_LOG,
                                           response_budget=AS_OF_RESPONSE_BYTES)
            self._catalogues[version] = built
            while len(self._catalogues) > CATALOGUES_KEPT:
                self._catalogues.popitem(last=False)
            return built


def split_as_of(raw_query: str, window: Callable[[], str] | None = None) -> tuple[datetime | None, str]:
    """The as_of instant of a query string (once at most) and the query without it."""
    from publisher.read.query import parse_pairs

    found = [value for key, value in parse_pairs(raw_query) if key == AS_OF]
    if len(found) > 1:
        raise BadRequest("repeated_parameter", f"{AS_OF} may be given at most once", AS_OF)
    rest = "&".join(piece for piece in raw_query.split("&") if piece.partition("=")[0] != AS_OF)
    return (parse_instant(found[0], window) if found else None), rest
