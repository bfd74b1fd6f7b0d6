"""The published documents' shared shapes: deterministic JSON bytes, a site object, llms.json and a
provider file, and the metadata every object carries (snapshot version, content hash)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from publisher.core import identity, schemas
from publisher.core.config import JSON_CACHE_CONTROL
from publisher.core.schema_definitions import SCHEMA_VERSION

JSON_TYPE = "application/json; charset=utf-8"
# Object metadata: the snapshot version an object belongs to, and the SHA-256 of its bytes, written
# by the publisher with every object. Unchanged objects are recognised by the hash, never by the
# ETag: under SSE-KMS S3's ETag is not an MD5 of the bytes.
VERSION_META = "snapshot-version"
DIGEST_META = "content-sha256"
# The log of versions: one immutable object per version (written by the publisher's changelog,
# replayed by the read API's as-of reads).
LOG_PREFIX = "internal/log/"


def content_digest(body: bytes) -> str:
    """The content hash the publisher stores with every object (S3's ETag is no MD5 under SSE-KMS)."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Prior:
    """What the bucket held under a key when it was just read: its ETag (None: absent), version and
    content hash (None when the object carries none)."""

    etag: str | None
    version: int
    digest: str | None = None


@dataclass(frozen=True)
class SiteObject:
    key: str
    body: bytes
    content_type: str
    cache_control: str
    # Set when the caller has just read the object: the write can skip its HEAD (a stale prior
    # only costs a 412 and a retry with a fresh HEAD).
    prior: Prior | None = None
    # Set for objects merged into what the bucket holds (history shards): after a conflicting
    # write the store reads the object again and merges into that, instead of comparing versions.
    merge: Callable[[bytes | None], bytes] | None = field(default=None, compare=False, repr=False)
    # Set for a document whose bytes depend on the catalogue without naming its version (the bare
    # `llms` array). Its version marker is what stops a slower publisher overwriting it, so equal
    # bytes under an older marker (a catalogue back to what it was, A -> B -> A) are written again.
    marks_version: bool = False

    @cached_property
    def digest(self) -> str:
        return content_digest(self.body)


def dumps(document: Any) -> bytes:
    """Deterministic JSON bytes: fixed separators, UTF-8, no trailing whitespace."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def json_object(key: str, document: Any) -> SiteObject:
    return SiteObject(key, dumps(document), JSON_TYPE, JSON_CACHE_CONTROL)


def catalogue_document(version: int | None, generated_at: str, models: list[dict[str, Any]],
                       fallback: dict[str, Any] | None = None) -> dict[str, Any]:
    """`llms.json`. `fallback` marks the read API's copy built from a DynamoDB scan (schemas.py)."""
    document: dict[str, Any] = {
        "$schema": schemas.schema_url("Catalogue"),
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "generated_at": generated_at,
        "count": len(models),
        "models": models,
    }
    if fallback is not None:
        document["fallback"] = fallback
    return document


def provider_summaries(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per exact provider name (never merged by case or slug), best first; `slug` is its key."""
    groups: dict[str, dict[str, Any]] = {}
    for record in models:
        name = record["provider"]
        group = groups.get(name)
        if group is None:
            group = groups[name] = {"name": name, "slug": identity.key(name), "count": 0,
                                    "best_score": record["score"]}
        group["count"] += 1
        group["best_score"] = max(group["best_score"], record["score"])
    return sorted(groups.values(), key=lambda g: (-g["best_score"], g["name"].casefold(), g["name"]))


def provider_document(version: int | None, generated_at: str, provider: dict[str, Any],
                      members: list[dict[str, Any]]) -> dict[str, Any]:
    """`providers/<key>.json`: one provider (a `provider_summaries` entry) and its models."""
    return {
        "$schema": schemas.schema_url("ProviderDocument"),
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "generated_at": generated_at,
        "provider": provider["name"],
        "slug": provider["slug"],
        "count": len(members),
        "best_score": provider["best_score"],
        "models": members,
    }


def log_key(version: int) -> str:
    """The log object of a version; zero-padded, so a listing of the prefix is in version order."""
    return f"{LOG_PREFIX}{version:012d}.json"
