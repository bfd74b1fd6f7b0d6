"""One snapshot held in memory with the indexes that make a filtered query at 10k models take microseconds."""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from publisher.core.documents import catalogue_document, dumps, provider_document
from publisher.core.identity import Directory, Resolution, key
from publisher.core.model import sorted_records
from publisher.read import cursor
from publisher.read import records as lean
from publisher.read.errors import BadRequest
from publisher.read.query import SORT_FIELDS, ListQuery
from publisher.read.records import Records

SOURCE_S3 = "s3"
SOURCE_DYNAMODB = "dynamodb"
# The memo of rendered answers is bounded by bytes, not entries: a few 10k-model list pages weigh
# as much as thousands of single-model lookups, and the function has 256 MB for everything.
RESPONSE_CACHE_BYTES = 16 * 1024 * 1024
# What an entry costs besides its bytes (key, dict slot, object headers), and what a derived
# structure without bytes (a providers summary) is counted as.
ENTRY_OVERHEAD_BYTES = 256


def weight(value: Any) -> int:
    """Bytes a memoised value holds: its body for rendered answers and bytes, a nominal cost otherwise."""
    body = getattr(value, "body", value)
    if isinstance(body, bytes | bytearray):
        return len(body) + ENTRY_OVERHEAD_BYTES
    if isinstance(body, list):
        return ENTRY_OVERHEAD_BYTES * (1 + len(body))
    return ENTRY_OVERHEAD_BYTES


class _RecordBytes(Sequence[bytes]):
    """`catalogue.record_bytes[i]`: the published bytes of record i, sliced on demand."""

    def __init__(self, records: Records) -> None:
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, position: int) -> bytes:  # type: ignore[override]
        return self._records.record(position)

    def __iter__(self) -> Iterator[bytes]:
        return (self._records.record(i) for i in range(len(self._records)))


@dataclass(frozen=True)
class Page:
    positions: list[int]
    total: int
    next_cursor: str | None


class Catalogue:
    """An immutable snapshot: records in the published order (read/records.py: the document's bytes,
    offsets and columns), plus lookups built once per version, the loose ones on first use.

    `document_bytes` are the exact bytes of `llms.json` when the copy came from S3, so the fallback
    origin serves what the publisher wrote. A copy built from a DynamoDB scan carries `fallback`
    (schemas.py) and, as `version`, the newest published version its source could find, or None.
    """

    def __init__(self, version: int | None, generated_at: str, records: Records, source: str,
                 document_bytes: bytes | None = None, etag: str | None = None,
                 fallback: dict[str, Any] | None = None, response_budget: int = RESPONSE_CACHE_BYTES) -> None:
        self.version = version
        self.generated_at = generated_at
        self.models = records
        self.record_bytes = _RecordBytes(records)
        self.source = source
        self.etag = etag
        self.fallback = fallback
        # The S3 ETag and content hash of the `llms` object of this version, when known (source.py):
        # the failover answer for /llms then carries the ETag the CDN had from S3.
        self.array_object: tuple[str, str] | None = None
        self._document_bytes = document_bytes
        self._lock = threading.Lock()
        self._orders: dict[str, Sequence[int]] = {}
        self._responses: OrderedDict[tuple[str, ...], tuple[Any, int]] = OrderedDict()
        self._response_bytes = 0
        self.response_budget = response_budget
        self._haystacks: list[str] | None = None

        self.by_name: dict[str, int] = {name: position for position, name in enumerate(records.names)}
        self.by_provider: dict[str, array] = {name: array("I") for name in records.providers}
        for position, provider_id in enumerate(records.provider_ids):
            self.by_provider[records.providers[provider_id]].append(position)
        self.scores = records.scores
        self.contexts = records.contexts
        # Cursors bind to the data itself: an S3 copy is named by its ETag, a scanned one by its bytes.
        content = etag or hashlib.sha256(records.buffer).hexdigest()
        self.fingerprint_salt = f"{version}:{len(records)}:{content}"
        self.models_directory = Directory(records.names, self.by_name)
        self.providers_directory = Directory(self.by_provider)

    @property
    def haystacks(self) -> list[str]:
        """One string per model for `q`, built on the first text query: a NUL cannot occur in a name
        or version, so no false joins."""
        if self._haystacks is None:
            names, versions = self.models.names, self.models.versions
            self._haystacks = [f"{names[i]}\x00{versions[i] or ''}".lower() for i in range(len(names))]
        return self._haystacks

    @property
    def cursor_version(self) -> int:
        """The version a cursor carries: -1 for a fallback copy that knows none."""
        return -1 if self.version is None else self.version

    @classmethod
    def from_records(cls, version: int | None, generated_at: str, records: list[dict[str, Any]],
                     source: str, fallback: dict[str, Any] | None = None,
                     response_budget: int = RESPONSE_CACHE_BYTES) -> Catalogue:
        return cls(version, generated_at, lean.from_records(sorted_records(records)), source, fallback=fallback,
                   response_budget=response_budget)

    @classmethod
    def from_document(cls, body: bytes, source: str, etag: str | None = None) -> Catalogue:
        """A catalogue from `llms.json` bytes; ValueError if they are not a snapshot document."""
        head, records = lean.from_document(body)
        version = head.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("not a snapshot document: version is not an integer")
        return cls(version, str(head.get("generated_at", "")), records, source, body, etag)

    @property
    def count(self) -> int:
        return len(self.models)

    def document_bytes(self) -> bytes:
        """`llms.json` as the publisher writes it."""
        if self._document_bytes is None:
            # The document with an empty list, its count set, and the records spliced in.
            document = catalogue_document(self.version, self.generated_at, [], self.fallback)
            document["count"] = self.count
            head, _, tail = dumps(document).partition(b'"models":[]')
            self._document_bytes = head + b'"models":[' + self.models.buffer + b"]" + tail
        return self._document_bytes

    def array_bytes(self) -> bytes:
        """`llms`, the PoC contract: the bare array of the same model objects."""
        return self.cached(("llms",), lambda: b"[" + b",".join(self.record_bytes) + b"]")

    def providers(self) -> list[dict[str, Any]]:
        def build() -> list[dict[str, Any]]:
            best: dict[int, float] = {}
            counts: dict[int, int] = {}
            for provider_id, score in zip(self.models.provider_ids, self.scores, strict=True):
                counts[provider_id] = counts.get(provider_id, 0) + 1
                best[provider_id] = max(best.get(provider_id, score), score)
            names = self.models.providers
            groups = [{"name": names[i], "slug": key(names[i]), "count": counts[i], "best_score": best[i]}
                      for i in counts]
            return sorted(groups, key=lambda g: (-g["best_score"], g["name"].casefold(), g["name"]))

        return self.cached(("providers",), build)

    def lookup(self, name: str, key_first: bool = False) -> Resolution:
        """The model a name means: exact name, key (key first for a file URL), then case-insensitive or slug
        only when unambiguous."""
        return self.models_directory.resolve(name, key_first)

    def provider_document_bytes(self, provider: str) -> bytes:
        """`providers/<key>.json` of one provider (an exact name), as the publisher renders it."""
        def build() -> bytes:
            summary = next(p for p in self.providers() if p["name"] == provider)
            positions = self.by_provider[provider]
            document = provider_document(self.version, self.generated_at, summary, [])
            document["count"] = len(positions)
            members = b",".join(self.record_bytes[i] for i in positions)
            return dumps(document).removesuffix(b"[]}") + b"[" + members + b"]}"

        return self.cached(("provider-document", key(provider)), build)

    def provider_positions(self, wanted: str) -> Sequence[int]:
        """The models of the provider `wanted` means (identity rules); a 400 if it could mean several."""
        resolution = self.providers_directory.resolve(wanted)
        if resolution.ambiguous:
            raise BadRequest("ambiguous_provider",
                             f"provider {wanted!r} matches {', '.join(map(repr, resolution.candidates))}; "
                             "give one exact name", "provider")
        return self.by_provider.get(resolution.name, array("I")) if resolution.name is not None else array("I")

    def cached(self, key: tuple[str, ...], build: Any) -> Any:
        """Memoise a value derived from this (immutable) snapshot; at most `response_budget` bytes in
        all, least recently used out. A value larger than the whole budget is returned, not kept."""
        with self._lock:
            if key in self._responses:
                self._responses.move_to_end(key)
                return self._responses[key][0]
        value = build()
        size = weight(value)
        if size > self.response_budget:
            return value
        with self._lock:
            if key in self._responses:
                self._response_bytes -= self._responses.pop(key)[1]
            self._responses[key] = (value, size)
            self._response_bytes += size
            while self._response_bytes > self.response_budget:
                _, (_, dropped) = self._responses.popitem(last=False)
                self._response_bytes -= dropped
        return value

    @property
    def cached_bytes(self) -> int:
        return self._response_bytes

    def order(self, sort: str | None) -> Sequence[int]:
        """Positions in the order `sort` asks for; ties by model_name, missing values last."""
        if sort is None:
            return range(self.count)
        return self._order(sort)

    def _order(self, sort: str) -> Sequence[int]:
        with self._lock:
            cached = self._orders.get(sort)
        if cached is not None:
            return cached
        descending = sort.startswith("-")
        field = sort.lstrip("-")
        assert field in SORT_FIELDS
        names = self.models.names
        column: Sequence[Any] | None = {"score": self.scores, "context_window": self.contexts,
                                        "release_date": self.models.release_dates}.get(field)
        if column is None:
            order = sorted(range(self.count), key=names.__getitem__, reverse=descending)
        else:
            missing = 0 if field == "context_window" else None
            present = [i for i in range(self.count) if column[i] != missing and column[i] is not None]
            absent = [i for i in range(self.count) if column[i] == missing or column[i] is None]
            present.sort(key=names.__getitem__)
            # Stable sorts: the name order survives inside equal values, whichever the direction.
            present.sort(key=column.__getitem__, reverse=descending)
            absent.sort(key=names.__getitem__)
            order = present + absent
        packed = array("I", order)
        with self._lock:
            self._orders[sort] = packed
        return packed

    def search(self, query: ListQuery) -> Page:
        offset = self.decode_cursor(query) if query.cursor else 0
        candidates = self._filter(query)
        page = list(candidates[offset:offset + query.limit])
        end = offset + len(page)
        next_cursor = self.encode_cursor(query, end) if end < len(candidates) else None
        return Page(page, len(candidates), next_cursor)

    def _filter(self, query: ListQuery) -> Sequence[int]:
        groups = [self.provider_positions(p) for p in query.providers]
        candidates: Sequence[int]
        if query.sort is None and len(groups) == 1:
            # The commonest filter reads its presorted list instead of the whole catalogue.
            candidates = groups[0]
        elif query.sort is None and groups:
            candidates = sorted({i for group in groups for i in group})
        else:
            candidates = self.order(query.sort)
            if groups:
                provider_ids = self.models.provider_ids
                wanted_ids = {provider_ids[group[0]] for group in groups if group}
                candidates = [i for i in candidates if provider_ids[i] in wanted_ids]
        scores = self.scores
        if query.min_score is not None:
            low = query.min_score
            candidates = [i for i in candidates if scores[i] >= low]
        if query.max_score is not None:
            high = query.max_score
            candidates = [i for i in candidates if scores[i] <= high]
        if query.min_context:
            contexts = self.contexts
            floor = query.min_context
            candidates = [i for i in candidates if contexts[i] >= floor]
        if query.q:
            needle, haystacks = query.q, self.haystacks
            candidates = [i for i in candidates if needle in haystacks[i]]
        return candidates

    def encode_cursor(self, query: ListQuery, offset: int) -> str:
        return cursor.encode(self.fingerprint_salt, self.cursor_version, query, offset)

    def decode_cursor(self, query: ListQuery) -> int:
        """The offset a cursor points at; a 400 naming `cursor` unless issued for this query and snapshot."""
        return cursor.decode(self.fingerprint_salt, self.cursor_version, query)
