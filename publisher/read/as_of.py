"""As-of reads: the catalogue exactly as published at an instant (`as_of=`), and how instants are read.

An instant T reads the newest version committed at or before T; the version's catalogue is replayed
from the newest checkpoint before it and the logs after it (publisher/read/versions.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from publisher.read.catalogue import RESPONSE_CACHE_BYTES
from publisher.read.errors import BadRequest

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
# The same text is the OpenAPI parameter's pattern (ECMA-262 reads it alike).
INSTANT_PATTERN = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})"
_INSTANT = re.compile(INSTANT_PATTERN)


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


def split_as_of(raw_query: str, window: Callable[[], str] | None = None) -> tuple[datetime | None, str]:
    """The as_of instant of a query string (once at most) and the query without it."""
    from publisher.read.query import parse_pairs

    found = [value for key, value in parse_pairs(raw_query) if key == AS_OF]
    if len(found) > 1:
        raise BadRequest("repeated_parameter", f"{AS_OF} may be given at most once", AS_OF)
    rest = "&".join(piece for piece in raw_query.split("&") if piece.partition("=")[0] != AS_OF)
    return (parse_instant(found[0], window) if found else None), rest
