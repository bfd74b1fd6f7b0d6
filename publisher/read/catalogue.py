"""One snapshot held in memory with the indexes that make a filtered query at 10k models take microseconds."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from publisher.identity import Directory, Resolution, key
from publisher.model import sorted_records
from publisher.read.errors import BadRequest
from publisher.read.query import MAX_CURSOR_LEN, SORT_FIELDS, ListQuery
from publisher.render import catalogue_document, dumps, provider_document, provider_summaries

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


class StaleCursor(Exception):
    """The cursor comes from a newer snapshot than this copy: the caller should revalidate and retry."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


@dataclass(frozen=True)
class Page:
    positions: list[int]
    total: int
    next_cursor: str | None


class Catalogue:
    """An immutable snapshot: records in the published order, plus lookups built once per version.

    `document_bytes` are the exact bytes of `llms.json` when the copy came from S3, so the fallback
    origin serves what the publisher wrote. A copy built from a DynamoDB scan carries `fallback`
    (schemas.py) and, as `version`, the newest published version its source could find, or None.
    """

    def __init__(self, version: int | None, generated_at: str, models: list[dict[str, Any]], source: str,
                 document_bytes: bytes | None = None, etag: str | None = None,
                 fallback: dict[str, Any] | None = None) -> None:
        self.version = version
        self.generated_at = generated_at
        self.models = models
        self.source = source
        self.etag = etag
        self.fallback = fallback
        self._document_bytes = document_bytes
        self._lock = threading.Lock()
        self._orders: dict[str, list[int]] = {}
        self._responses: OrderedDict[tuple[str, ...], tuple[Any, int]] = OrderedDict()
        self._response_bytes = 0

        self.record_bytes = [dumps(m) for m in models]
        self.by_name: dict[str, int] = {}
        self.by_provider: dict[str, list[int]] = {}
        self.provider_of: list[str] = []
        self.scores: list[float] = []
        self.contexts: list[int] = []
        self.haystacks: list[str] = []
        for position, model in enumerate(models):
            name = model["model_name"]
            provider = model["provider"]
            self.by_name[name] = position
            self.by_provider.setdefault(provider, []).append(position)
            self.provider_of.append(provider)
            self.scores.append(model["score"])
            self.contexts.append(model.get("context_window") or 0)
            # One string per model for `q`: a NUL cannot occur in a name or version, so no false joins.
            self.haystacks.append(f"{name}\x00{model.get('version', '')}".lower())
        # Cursors bind to the data itself: an S3 copy is named by its ETag, a scanned one by its bytes.
        content = etag or hashlib.sha256(b"\n".join(self.record_bytes)).hexdigest()
        self.fingerprint_salt = f"{version}:{len(models)}:{content}"
        self.models_directory = Directory(self.by_name)
        self.providers_directory = Directory(self.by_provider)

    @property
    def cursor_version(self) -> int:
        """The version a cursor carries: -1 for a fallback copy that knows none."""
        return -1 if self.version is None else self.version

    @classmethod
    def from_records(cls, version: int | None, generated_at: str, records: list[dict[str, Any]],
                     source: str, fallback: dict[str, Any] | None = None) -> Catalogue:
        return cls(version, generated_at, sorted_records(records), source, fallback=fallback)

    @classmethod
    def from_document(cls, body: bytes, source: str, etag: str | None = None) -> Catalogue:
        """A catalogue from `llms.json` bytes; ValueError if they are not a snapshot document."""
        document = json.loads(body)
        if not isinstance(document, dict) or not isinstance(document.get("models"), list):
            raise ValueError("not a snapshot document: no models list")
        version = document.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("not a snapshot document: version is not an integer")
        for model in document["models"]:
            score = model.get("score") if isinstance(model, dict) else None
            if not (isinstance(model, dict) and isinstance(model.get("model_name"), str)
                    and isinstance(model.get("provider"), str)
                    and isinstance(score, int | float) and not isinstance(score, bool)):
                raise ValueError("not a snapshot document: a model lacks model_name, provider or score")
        return cls(version, str(document.get("generated_at", "")), document["models"], source, body, etag)

    @property
    def count(self) -> int:
        return len(self.models)

    def document_bytes(self) -> bytes:
        """`llms.json` as the publisher writes it."""
        if self._document_bytes is None:
            self._document_bytes = dumps(catalogue_document(self.version, self.generated_at, self.models,
                                                            self.fallback))
        return self._document_bytes

    def array_bytes(self) -> bytes:
        """`llms`, the PoC contract: the bare array of the same model objects."""
        return self.cached(("llms",), lambda: b"[" + b",".join(self.record_bytes) + b"]")

    def providers(self) -> list[dict[str, Any]]:
        return self.cached(("providers",), lambda: provider_summaries(self.models))

    def lookup(self, name: str) -> Resolution:
        """The model a name means: exact name, key, then case-insensitive or slug only when unambiguous."""
        return self.models_directory.resolve(name)

    def provider_document_bytes(self, provider: str) -> bytes:
        """`providers/<key>.json` of one provider (an exact name), as the publisher renders it."""
        def build() -> bytes:
            summary = next(p for p in self.providers() if p["name"] == provider)
            members = [self.models[i] for i in self.by_provider[provider]]
            return dumps(provider_document(self.version, self.generated_at, summary, members))

        return self.cached(("provider-document", key(provider)), build)

    def provider_positions(self, wanted: str) -> list[int]:
        """The models of the provider `wanted` means (identity rules); a 400 if it could mean several."""
        resolution = self.providers_directory.resolve(wanted)
        if resolution.ambiguous:
            raise BadRequest("ambiguous_provider",
                             f"provider {wanted!r} matches {', '.join(map(repr, resolution.candidates))}; "
                             "give one exact name", "provider")
        return self.by_provider.get(resolution.name, []) if resolution.name is not None else []

    def cached(self, key: tuple[str, ...], build: Any) -> Any:
        """Memoise a value derived from this (immutable) snapshot; at most RESPONSE_CACHE_BYTES in
        all, least recently used out. A value larger than the whole budget is returned, not kept."""
        with self._lock:
            if key in self._responses:
                self._responses.move_to_end(key)
                return self._responses[key][0]
        value = build()
        size = weight(value)
        if size > RESPONSE_CACHE_BYTES:
            return value
        with self._lock:
            if key in self._responses:
                self._response_bytes -= self._responses.pop(key)[1]
            self._responses[key] = (value, size)
            self._response_bytes += size
            while self._response_bytes > RESPONSE_CACHE_BYTES:
                _, (_, dropped) = self._responses.popitem(last=False)
                self._response_bytes -= dropped
        return value

    @property
    def cached_bytes(self) -> int:
        return self._response_bytes

    def order(self, sort: str | None) -> list[int]:
        """Positions in the order `sort` asks for; ties by model_name, missing values last."""
        if sort is None or sort == "-score":
            return list(range(len(self.models))) if sort is None else self._order("-score")
        return self._order(sort)

    def _order(self, sort: str) -> list[int]:
        with self._lock:
            cached = self._orders.get(sort)
        if cached is not None:
            return cached
        descending = sort.startswith("-")
        field = sort.lstrip("-")
        assert field in SORT_FIELDS
        models = self.models
        if field == "model_name":
            order = sorted(range(len(models)), key=lambda i: models[i]["model_name"], reverse=descending)
        else:
            present = [i for i in range(len(models)) if models[i].get(field) is not None]
            absent = [i for i in range(len(models)) if models[i].get(field) is None]
            present.sort(key=lambda i: models[i]["model_name"])
            # Stable sorts: the name order survives inside equal values, whichever the direction.
            present.sort(key=lambda i: models[i][field], reverse=descending)
            absent.sort(key=lambda i: models[i]["model_name"])
            order = present + absent
        with self._lock:
            self._orders[sort] = order
        return order

    def search(self, query: ListQuery) -> Page:
        offset = self.decode_cursor(query) if query.cursor else 0
        candidates = self._filter(query)
        page = candidates[offset:offset + query.limit]
        end = offset + len(page)
        next_cursor = self.encode_cursor(query, end) if end < len(candidates) else None
        return Page(page, len(candidates), next_cursor)

    def _filter(self, query: ListQuery) -> list[int]:
        groups = [self.provider_positions(p) for p in query.providers]
        if query.sort is None and len(groups) == 1:
            # The commonest filter reads its presorted list instead of the whole catalogue.
            candidates = groups[0]
        elif query.sort is None and groups:
            candidates = sorted({i for group in groups for i in group})
        else:
            candidates = self.order(query.sort)
            if groups:
                wanted_set = {self.provider_of[group[0]] for group in groups if group}
                provider_of = self.provider_of
                candidates = [i for i in candidates if provider_of[i] in wanted_set]
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

    def _fingerprint(self, query: ListQuery) -> str:
        digest = hashlib.sha256(f"{self.fingerprint_salt}|{query.fingerprint_source()}".encode())
        return digest.hexdigest()[:16]

    def encode_cursor(self, query: ListQuery, offset: int) -> str:
        payload = json.dumps({"o": offset, "v": self.cursor_version, "f": self._fingerprint(query)},
                             separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()

    def decode_cursor(self, query: ListQuery) -> int:
        """The offset a cursor points at; a 400 naming `cursor` unless issued for this query and snapshot."""
        raw = query.cursor or ""
        bad = BadRequest("invalid_cursor",
                         "cursor is malformed: pass the `next` value of a previous page unchanged", "cursor")
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
        if version > self.cursor_version:
            raise StaleCursor(version)
        if version != self.cursor_version:
            raise BadRequest("cursor_expired",
                             f"the catalogue changed since this cursor was issued (snapshot {version}, now "
                             f"{self.cursor_version}); start again from the first page", "cursor")
        if fingerprint != self._fingerprint(query):
            raise BadRequest("cursor_mismatch",
                             "cursor was issued for other filters or sort, or the catalogue changed since; "
                             "keep the filters unchanged while paging, or start again from the first page",
                             "cursor")
        return offset
