"""The catalogue's records held lean: the document's own bytes, each record's offsets, and the columns
queries read (name, provider, score, context window, release date, version).

At 100,000 models a list of parsed dicts costs about 200 MB, more than the read function has; the
same catalogue held as the `llms.json` bytes (23 MB) plus offsets and columns costs a fraction of
that, and a record is parsed only when a caller asks for it as a dict. The bytes of a record are
the publisher's own (`documents.dumps` of the record), so answers splice them without re-encoding.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from publisher.core.documents import dumps

MODELS_OPEN = b'"models":['
# Records in llms.json are joined like this and, in valid JSON, nothing else can look like it:
# every quote inside a string is escaped.
BOUNDARY = b'},{"model_name":'


def _valid(model: Any) -> bool:
    score = model.get("score") if isinstance(model, dict) else None
    return (isinstance(model, dict) and isinstance(model.get("model_name"), str)
            and isinstance(model.get("provider"), str)
            and isinstance(score, int | float) and not isinstance(score, bool))


@dataclass
class Records(Sequence[dict[str, Any]]):
    """Records in published order; `records[i]` parses one record, `record(i)` is its bytes."""

    buffer: bytes
    starts: array = field(default_factory=lambda: array("Q"))
    ends: array = field(default_factory=lambda: array("Q"))
    names: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)  # distinct, in order of first appearance
    provider_ids: array = field(default_factory=lambda: array("I"))
    scores: array = field(default_factory=lambda: array("d"))
    contexts: array = field(default_factory=lambda: array("q"))  # 0: none (a context window is >= 1)
    release_dates: list[str | None] = field(default_factory=list)
    versions: list[str | None] = field(default_factory=list)
    _provider_index: dict[str, int] = field(default_factory=dict, repr=False)
    _interned: dict[str, str] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, position: int) -> dict[str, Any]:  # type: ignore[override]
        return json.loads(self.record(position))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[i] for i in range(len(self)))

    def record(self, position: int) -> bytes:
        return self.buffer[self.starts[position]:self.ends[position]]

    def provider(self, position: int) -> str:
        return self.providers[self.provider_ids[position]]

    def _intern(self, value: Any) -> str | None:
        # Dates and versions repeat across models: one string object each.
        return self._interned.setdefault(value, value) if isinstance(value, str) else None

    def add(self, model: dict[str, Any], start: int, end: int) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.names.append(model["model_name"])
        provider = model["provider"]
        index = self._provider_index.get(provider)
        if index is None:
            index = self._provider_index[provider] = len(self.providers)
            self.providers.append(provider)
        self.provider_ids.append(index)
        self.scores.append(float(model["score"]))
        self.contexts.append(int(model.get("context_window") or 0))
        self.release_dates.append(self._intern(model.get("release_date")))
        self.versions.append(self._intern(model.get("version")))

    def done(self) -> Records:
        self._provider_index.clear()
        self._interned.clear()
        return self


def from_records(models: list[dict[str, Any]], pieces: list[bytes] | None = None) -> Records:
    """Records from dicts already in published order (a DynamoDB scan): each encoded as the publisher
    does, unless `pieces` holds those bytes already (an as-of replay keeps them from its checkpoint)."""
    if pieces is None:
        pieces = [dumps(m) for m in models]
    records = Records(b",".join(pieces))
    offset = 0
    for model, piece in zip(models, pieces, strict=True):
        records.add(model, offset, offset + len(piece))
        offset += len(piece) + 1
    return records.done()


def _header(body: bytes, opening: int) -> dict[str, Any]:
    head = json.loads(body[:opening] + b"[]}")
    if not isinstance(head, dict):
        raise ValueError("not a snapshot document")
    return head


def from_document(body: bytes) -> tuple[dict[str, Any], Records]:
    """The document's header fields (models empty) and its records, or ValueError for a non-snapshot.

    The publisher's compact form is indexed in place, one record parsed at a time, so the document
    is never held as dicts; any other valid form is parsed whole and its records re-encoded.
    """
    opening = body.find(MODELS_OPEN)
    if opening >= 0 and body.endswith(b"]}"):
        try:
            head = _header(body, opening + len(MODELS_OPEN) - 1)
            return head, _index_in_place(body, opening + len(MODELS_OPEN), len(body) - 2)
        except json.JSONDecodeError:
            pass  # not the publisher's compact form: parse it whole
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("models"), list):
        raise ValueError("not a snapshot document: no models list")
    models = document.pop("models")
    for model in models:
        if not _valid(model):
            raise ValueError("not a snapshot document: a model lacks model_name, provider or score")
    document["models"] = []
    return document, from_records(models)


def _index_in_place(body: bytes, first: int, last: int) -> Records:
    """Records between `first` and `last` (the array's brackets excluded), split at BOUNDARY."""
    records = Records(body)
    if first == last:
        return records.done()
    start = first
    while True:
        cut = body.find(BOUNDARY, start, last)
        end = last if cut < 0 else cut + 1
        model = json.loads(body[start:end])
        if not _valid(model):
            raise ValueError("not a snapshot document: a model lacks model_name, provider or score")
        records.add(model, start, end)
        if cut < 0:
            return records.done()
        start = cut + 2
