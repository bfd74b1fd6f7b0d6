"""The read API's routes and HTTP semantics (ETag, 304, caching, CORS) over plain request values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from publisher.config import JSON_CACHE_CONTROL
from publisher.model import MAX_NAME_LEN, slugify
from publisher.read.catalogue import Catalogue, StaleCursor
from publisher.read.errors import ApiError, BadRequest, MethodNotAllowed, NotFound
from publisher.read.query import check_text, parse_list_query, reject_parameters
from publisher.read.source import SnapshotSource, age_seconds
from publisher.render import JSON_TYPE

ALLOWED_METHODS = ("GET", "HEAD")
MAX_PATH = 1024
# Bad input is deterministic, but a 404 may stop being one when a model is added: cache briefly.
CLIENT_ERROR_CACHE_CONTROL = "public, max-age=5, s-maxage=5"
NO_STORE = "no-store"
BASE_HEADERS = {
    "Content-Type": JSON_TYPE,
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, X-Snapshot-Source, X-Snapshot-Version",
    "X-Content-Type-Options": "nosniff",
}


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


def rendered(body: bytes) -> Rendered:
    # MD5 like S3's ETag for the same bytes, so a failover answer revalidates against the S3 copy.
    return Rendered(body, f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"')


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == bare for candidate in header.split(","))


def error_response(error: ApiError, method: str = "GET") -> Response:
    cache = NO_STORE if error.status >= 500 else CLIENT_ERROR_CACHE_CONTROL
    headers = {**BASE_HEADERS, "Cache-Control": cache}
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(ALLOWED_METHODS)
    body = json.dumps(error.document(), separators=(",", ":")).encode()
    return Response(error.status, b"" if method == "HEAD" else body, headers)


def internal_error() -> Response:
    return error_response(_Internal("internal_error", "the server could not answer; try again"))


class _Internal(ApiError):
    status = 500


def ok(request: Request, content: Rendered, catalogue: Catalogue | None,
       cache_control: str = JSON_CACHE_CONTROL) -> Response:
    headers = {**BASE_HEADERS, "Cache-Control": cache_control, "ETag": content.etag}
    source = None
    if catalogue is not None:
        source = catalogue.source
        headers["X-Snapshot-Source"] = catalogue.source
        headers["X-Snapshot-Version"] = str(catalogue.version)
    if etag_matches(request.headers.get("if-none-match"), content.etag):
        del headers["Content-Type"]
        return Response(304, b"", headers, source)
    return Response(200, b"" if request.method == "HEAD" else content.body, headers, source)


def model_name(raw: str) -> str:
    """The decoded `{model_name}` path segment, or a 400 for anything that could escape the namespace."""
    try:
        name = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("invalid_model_name", "model_name is not valid UTF-8 after percent-decoding",
                         "model_name") from None
    if not 1 <= len(name) <= MAX_NAME_LEN:
        raise BadRequest("invalid_model_name", f"model_name must be 1..{MAX_NAME_LEN} characters",
                         "model_name")
    check_text(name, "model_name")
    if "/" in name or "\\" in name or ".." in name or name == ".":
        raise BadRequest("invalid_model_name", "model_name must not contain '/', '\\' or '..'", "model_name")
    return name


class ReadApi:
    """Routes a request to an answer. `openapi` returns the OpenAPI document's bytes."""

    def __init__(self, source: SnapshotSource, openapi: Callable[[], bytes]) -> None:
        self.source = source
        self.openapi = openapi
        self._openapi: Rendered | None = None

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except ApiError as error:
            return error_response(error, request.method)

    def _route(self, request: Request) -> Response:
        path = request.path
        if len(path) > MAX_PATH:
            raise NotFound("route_not_found", f"no route for a path longer than {MAX_PATH} characters")
        segments = path.split("/")
        route: Callable[[], Response] | None = None
        if path in ("/llms.json", "/llms"):
            route = lambda: self.snapshot(request)  # noqa: E731
        elif len(segments) >= 3 and segments[0] == "" and segments[1] == "api":
            rest = segments[2:]
            if rest == ["llms"]:
                route = lambda: self.list_models(request)  # noqa: E731
            elif len(rest) == 2 and rest[0] == "llms" and rest[1]:
                route = lambda: self.get_model(request, rest[1])  # noqa: E731
            elif len(rest) == 3 and rest[0] == "llms" and rest[1] and rest[2] == "history":
                route = lambda: self.history(request, rest[1])  # noqa: E731
            elif rest == ["providers"]:
                route = lambda: self.providers(request)  # noqa: E731
            elif rest == ["health"]:
                route = lambda: self.health(request)  # noqa: E731
            elif rest == ["openapi.json"]:
                route = lambda: self.openapi_document(request)  # noqa: E731
        if route is None:
            raise NotFound("route_not_found", "no such route; see /api/openapi.json")
        if request.method not in ALLOWED_METHODS:
            raise MethodNotAllowed("method_not_allowed", f"{request.method} is not allowed; use GET or HEAD")
        return route()

    def list_models(self, request: Request) -> Response:
        query = parse_list_query(request.raw_query)
        catalogue = self.source.current()
        try:
            content = catalogue.cached(("list", repr(query)), lambda: self._list_body(catalogue, query))
        except StaleCursor:
            catalogue = self.source.current(force=True)
            try:
                content = catalogue.cached(("list", repr(query)), lambda: self._list_body(catalogue, query))
            except StaleCursor:
                raise BadRequest("cursor_expired", "cursor comes from a newer snapshot than this server has "
                                 "seen yet; retry shortly or start from the first page", "cursor") from None
        return ok(request, content, catalogue)

    @staticmethod
    def _list_body(catalogue: Catalogue, query: Any) -> Rendered:
        page = catalogue.search(query)
        items = b",".join([catalogue.record_bytes[i] for i in page.positions])
        tail = json.dumps({"count": len(page.positions), "total": page.total, "next": page.next_cursor,
                           "version": catalogue.version}, separators=(",", ":")).encode()
        return rendered(b'{"items":[' + items + b"]," + tail[1:])

    def _find(self, request: Request, raw_name: str) -> tuple[Catalogue, int, str]:
        """The catalogue and the position of the model a `/api/llms/{model_name}...` path names."""
        name = model_name(raw_name)
        reject_parameters(request.raw_query)
        catalogue = self.source.current()
        position = catalogue.lookup(name)
        if position is None:
            raise NotFound("model_not_found", f"no model named {name!r}", "model_name")
        return catalogue, position, name

    def get_model(self, request: Request, raw_name: str) -> Response:
        catalogue, position, _ = self._find(request, raw_name)
        content = catalogue.cached(("model", str(position)),
                                   lambda: rendered(catalogue.record_bytes[position]))
        return ok(request, content, catalogue)

    def history(self, request: Request, raw_name: str) -> Response:
        catalogue, position, name = self._find(request, raw_name)
        body = self.source.history(slugify(catalogue.models[position]["model_name"]))
        if body is None:
            raise NotFound("history_not_found", f"no history recorded for {name!r} yet", "model_name")
        return ok(request, rendered(body), catalogue)

    def providers(self, request: Request) -> Response:
        reject_parameters(request.raw_query)
        catalogue = self.source.current()

        def build() -> Rendered:
            items = catalogue.providers()
            return rendered(json.dumps({"items": items, "count": len(items), "version": catalogue.version},
                                       ensure_ascii=False, separators=(",", ":")).encode())

        return ok(request, catalogue.cached(("providers-body",), build), catalogue)

    def health(self, request: Request) -> Response:
        reject_parameters(request.raw_query)
        catalogue = self.source.current()
        now: datetime = self.source.wall_clock()
        document = {
            "status": "ok",
            "source": catalogue.source,
            "version": catalogue.version,
            "generated_at": catalogue.generated_at,
            "age_seconds": round(age_seconds(catalogue, self.source.loaded_at, now), 3),
            "count": catalogue.count,
        }
        body = json.dumps(document, separators=(",", ":")).encode()
        return ok(request, rendered(body), catalogue, NO_STORE)

    def openapi_document(self, request: Request) -> Response:
        reject_parameters(request.raw_query)
        if self._openapi is None:
            self._openapi = rendered(self.openapi())
        return ok(request, self._openapi, None)

    def snapshot(self, request: Request) -> Response:
        # CloudFront sends these here only when S3 just failed for them, and forwards no query string.
        catalogue = self.source.current(prefer_fresh_s3=True)
        build = catalogue.document_bytes if request.path == "/llms.json" else catalogue.array_bytes
        content = catalogue.cached(("snapshot", request.path), lambda: rendered(build()))
        return ok(request, content, catalogue)
