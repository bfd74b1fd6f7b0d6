"""HTTP semantics of the read API over plain values: requests, answers, ETags, 304s, caching, CORS."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from publisher.core import edge_contract
from publisher.core.answers import etag_matches
from publisher.core.config import API_CACHE_CONTROL, PREFLIGHT_CACHE_CONTROL
from publisher.core.documents import JSON_TYPE, content_digest
from publisher.read.catalogue import SOURCE_S3, Catalogue
from publisher.read.errors import ApiError, MethodNotAllowed

ALLOWED_METHODS = edge_contract.methods()
CLIENT_ERROR_CACHE_CONTROL = "public, max-age=5, s-maxage=5"
NO_STORE = "no-store"
# X-Snapshot-Source names who answered, the same in AWS as locally: `s3` only the edge says (the
# published object, straight from the bucket); the function answers from its copy of that object
# (`memory`) or from its table scan (`dynamodb`).
HEADER_SOURCE = {SOURCE_S3: "memory"}
BASE_HEADERS = {"Content-Type": JSON_TYPE, **edge_contract.cors_headers(), "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as received, still percent-encoded
    raw_query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]
    source: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A 200 body with its ETag, computed once per snapshot and query."""

    body: bytes
    etag: str


def rendered(body: bytes, etag: str | None = None) -> Rendered:
    """A body with its strong ETag: the one S3 gave the same bytes when known (a failover answer then
    revalidates against what the CDN had from S3; under SSE-KMS that ETag is no hash we could
    compute), else the content hash the publisher stores with its objects."""
    return Rendered(body, etag if etag else f'"{content_digest(body)}"')


def by_identity(loose: bool, cache_control: str) -> str:
    """An answer found by another case or the slug of a name is never cached: once that exact name is
    published, its URL must answer for it, not for the model the loose match meant before."""
    return NO_STORE if loose else cache_control


def error_response(error: ApiError, method: str = "GET") -> Response:
    cache = CLIENT_ERROR_CACHE_CONTROL if error.cacheable and error.status < 500 else NO_STORE
    headers = {**BASE_HEADERS, "Cache-Control": cache}
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(ALLOWED_METHODS)
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    body = json.dumps(error.document(), ensure_ascii=False, separators=(",", ":")).encode()
    return _answer(error.status, method, body, headers)


def internal_error() -> Response:
    return error_response(_Internal("internal_error", "the server could not answer; try again"))


class _Internal(ApiError):
    status = 500


def preflight() -> Response:
    """A CORS preflight: the same for every route, so it touches no data."""
    headers = {**edge_contract.preflight_headers(), "Allow": ", ".join(ALLOWED_METHODS),
               "Cache-Control": PREFLIGHT_CACHE_CONTROL}
    return Response(204, b"", headers)


def ok(request: Request, content: Rendered, catalogue: Catalogue | None,
       cache_control: str = API_CACHE_CONTROL, extra: dict[str, str] | None = None) -> Response:
    headers = {**BASE_HEADERS, "Cache-Control": cache_control, "ETag": content.etag, **(extra or {})}
    source = None
    if catalogue is not None:
        source = catalogue.source
        headers["X-Snapshot-Source"] = HEADER_SOURCE.get(catalogue.source, catalogue.source)
        if catalogue.version is not None:
            headers["X-Snapshot-Version"] = str(catalogue.version)
    if etag_matches(request.headers.get("if-none-match"), content.etag):
        del headers["Content-Type"]
        return Response(304, b"", headers, source)
    return _answer(200, request.method, content.body, headers, source)


def _answer(status: int, method: str, body: bytes, headers: dict[str, str], source: str | None = None) -> Response:
    """HEAD sends GET's header fields without its body, Content-Length included (RFC 9110 9.3.2)."""
    if method == "HEAD":
        return Response(status, b"", {**headers, "Content-Length": str(len(body))}, source)
    return Response(status, body, headers, source)
