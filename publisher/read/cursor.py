"""Cursors of the list route: an offset bound to one snapshot version and one query, opaque to clients."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from publisher.read.errors import BadRequest
from publisher.read.query import MAX_CURSOR_LEN, ListQuery

# Every cursor `encode` issues, exactly as far as a pattern can say it: the base64url of
# `{"o":<offset>,"v":<version>,"f":"<16 hex>"}` always starts with the encoding of `{"o":` (a digit or
# '-' follows, whose top bits are the same), and is 48 characters (offset 0, version 0) to 75 (offset
# 10**9, version MAX_VERSION) long. Whether it names a page of this snapshot and query no pattern can say.
PATTERN = "^eyJvIjo[A-Za-z0-9_-]{41,68}$"
MIN_LEN, MAX_LEN = 48, 75


class StaleCursor(Exception):
    """The cursor comes from a newer snapshot than this copy: the caller should revalidate and retry."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def _fingerprint(salt: str, query: ListQuery) -> str:
    return hashlib.sha256(f"{salt}|{query.fingerprint_source()}".encode()).hexdigest()[:16]


def encode(salt: str, version: int, query: ListQuery, offset: int) -> str:
    """`salt` names the snapshot's data (catalogue.fingerprint_salt), `version` its cursor version."""
    payload = json.dumps({"o": offset, "v": version, "f": _fingerprint(salt, query)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()


def decode(salt: str, current: int, query: ListQuery) -> int:
    """The offset `query.cursor` points at; a 400 naming `cursor` unless issued for this query and
    snapshot, StaleCursor when it comes from a newer snapshot than `current`."""
    raw = query.cursor or ""
    bad = BadRequest("invalid_cursor", "cursor is malformed: pass the `next` value of a previous page unchanged",
                     "cursor")
    if len(raw) > MAX_CURSOR_LEN:
        raise bad
    try:
        payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    if not isinstance(payload, dict) or set(payload) != {"o", "v", "f"}:
        raise bad
    offset, version, fingerprint = payload["o"], payload["v"], payload["f"]
    if not (isinstance(offset, int) and isinstance(version, int) and isinstance(fingerprint, str)) \
            or isinstance(offset, bool) or isinstance(version, bool) or not 0 <= offset <= 10**9:
        raise bad
    if version > current:
        raise StaleCursor(version)
    if version != current:
        raise BadRequest("cursor_expired",
                         f"the catalogue changed since this cursor was issued (snapshot {version}, now "
                         f"{current}); start again from the first page", "cursor")
    if fingerprint != _fingerprint(salt, query):
        raise BadRequest("cursor_mismatch",
                         "cursor was issued for other filters or sort, or the catalogue changed since; "
                         "keep the filters unchanged while paging, or start again from the first page", "cursor")
    return offset
