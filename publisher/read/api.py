"""The read API's routes: which snapshot answers, which model or provider a name means, and what it says."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from publisher.core import edge_contract, identity
from publisher.core.config import API_CACHE_CONTROL, AS_OF_SETTLED_CACHE_CONTROL, JSON_CACHE_CONTROL
from publisher.core.documents import content_digest
from publisher.core.history_shards import find_document
from publisher.read.as_of import SOURCE_LOG, split_as_of
from publisher.read.catalogue import SOURCE_S3, Catalogue
from publisher.read.changes import changes_page, parse_changes_query
from publisher.read.cursor import StaleCursor
from publisher.read.errors import Ambiguous, ApiError, BadRequest, MethodNotAllowed, NameNotFound, NotFound, NotYet
from publisher.read.http import (
    ALLOWED_METHODS,
    NO_STORE,
    Rendered,
    Request,
    Response,
    by_identity,
    error_response,
    ok,
    preflight,
    rendered,
)
from publisher.read.query import ListQuery, decode_name, min_version, parse_list_query, reject_parameters
from publisher.read.source import SnapshotSource, age_seconds
from publisher.read.versions import VersionLog

# The routes are the edge contract's (publisher/core/edge_contract.json): the OpenAPI document, the
# local edge and infra/cdn.tf read the same list. Every route answers every method of the contract
# (GET, HEAD, OPTIONS); the failover ones are the snapshot, and per-model or per-provider URLs S3
# does not hold.
ROUTES = tuple(route.path for route in edge_contract.routes())
_OPERATION = {route.path: route.operation for route in edge_contract.routes()}
MAX_PATH = 1024


def match(path: str) -> tuple[str, dict[str, str]] | None:
    """The route template a raw path matches and its (still encoded) parameters."""
    segments = path.split("/")
    for template in ROUTES:
        parts = template.split("/")
        if len(parts) != len(segments):
            continue
        params: dict[str, str] = {}
        for part, segment in zip(parts, segments, strict=True):
            if part.startswith("{"):
                if not segment:
                    break
                params[part.strip("{}")] = segment
            elif part != segment:
                break
        else:
            return template, params
    return None


def _ambiguous(what: str, wanted: str, names: tuple[str, ...], url: Callable[[str], str]) -> Ambiguous:
    return Ambiguous("ambiguous_name", f"{what} {wanted!r} could mean {len(names)} names; use the exact name",
                     "model_name" if what == "model" else "provider",
                     [{"name": name, "url": url(name)} for name in names])


class ReadApi:
    """Routes a request to an answer. `openapi` returns the OpenAPI document's bytes."""

    def __init__(self, source: SnapshotSource, openapi: Callable[[], bytes], retention_days: int | None = None) -> None:
        self.source = source
        self.openapi = openapi
        self._openapi: Rendered | None = None
        self.versions = VersionLog(lambda key: source.object_bytes(key, fresh=True), source.wall_clock,
                                   retention_days)
        # By OpenAPI operationId (the contract names each route's).
        self._handlers: dict[str, Callable[[Request, dict[str, str]], Response]] = {
            "listModels": self.list_models,
            "getModel": self.get_model,
            "getModelHistory": self.history,
            "listChanges": self.changes,
            "listProviders": self.providers,
            "health": self.health,
            "openapi": self.openapi_document,
            "snapshot": self.snapshot,
            "snapshotArray": self.snapshot,
            "historyFile": self.history_file,
            "providerFile": self.provider_file,
        }
        missing = set(_OPERATION.values()) - set(self._handlers)
        if missing:
            raise LookupError(f"no handler for the contract's operations {sorted(missing)}")

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except ApiError as error:
            return error_response(error, request.method)

    def _route(self, request: Request) -> Response:
        if len(request.path) > MAX_PATH:
            raise NotFound("route_not_found", f"no route for a path longer than {MAX_PATH} characters")
        matched = match(request.path)
        if matched is None:
            raise NotFound("route_not_found", "no such route; see /api/openapi.json")
        if request.method not in ALLOWED_METHODS:
            raise MethodNotAllowed("method_not_allowed",
                                   f"{request.method} is not allowed; use {', '.join(ALLOWED_METHODS)}")
        if request.method == "OPTIONS":
            return preflight()
        template, params = matched
        return self._handlers[_OPERATION[template]](request, params)

    def _current(self, wanted: int | None, **kwargs: bool) -> Catalogue:
        """The snapshot to answer from: never older than `wanted` (min_version), or a 503 to retry."""
        catalogue = self.source.current(min_version=wanted, **kwargs)
        if wanted is not None and catalogue.cursor_version < wanted:
            raise NotYet("version_not_yet", f"snapshot {wanted} is not readable here yet (this server has "
                         f"{catalogue.version}); retry in a second", "min_version")
        return catalogue

    def _window(self) -> str:
        return self.versions.window(lambda: self._current(None).cursor_version)

    def _as_of(self, instant: datetime | None, catalogue: Catalogue) -> Catalogue:
        """The catalogue as published at `instant` (as_of.py), or the current one without it."""
        if instant is None:
            return catalogue
        return self.versions.catalogue(self.versions.version_at(instant, catalogue.cursor_version))

    def list_models(self, request: Request, params: dict[str, str]) -> Response:
        query = parse_list_query(request.raw_query)
        instant, _ = split_as_of(request.raw_query, self._window)
        if instant is not None:
            # A forced look at S3: the newest version may have been committed just before the instant.
            catalogue = self._as_of(instant, self._current(min_version(request.raw_query), force=True))
            try:
                content = catalogue.cached(("list", repr(query)), lambda: self._list_body(catalogue, query))
            except StaleCursor:
                raise BadRequest("cursor_mismatch", f"cursor comes from a later snapshot than version "
                                 f"{catalogue.version}, which as_of reads; page with the cursors of as-of "
                                 "answers, or start from the first page", "cursor") from None
            return ok(request, content, catalogue, self._lifetime(catalogue))
        catalogue = self._current(min_version(request.raw_query))
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
    def _list_body(catalogue: Catalogue, query: ListQuery) -> Rendered:
        page = catalogue.search(query)
        items = b",".join([catalogue.record_bytes[i] for i in page.positions])
        tail = json.dumps({"count": len(page.positions), "total": page.total, "next": page.next_cursor,
                           "version": catalogue.version}, separators=(",", ":")).encode()
        return rendered(b'{"items":[' + items + b"]," + tail[1:])

    def _find(self, request: Request, raw_name: str, history: bool = False,
              as_of: bool = False) -> tuple[Catalogue, str, bool]:
        """The snapshot, the exact name a path segment means and whether it matched loosely, or 300 / 404."""
        name = decode_name(raw_name)
        instant, rest = split_as_of(request.raw_query, self._window) if as_of else (None, request.raw_query)
        wanted = reject_parameters(rest)
        catalogue = self._current(wanted, force=instant is not None)
        catalogue = self._as_of(instant, catalogue)
        resolution = catalogue.lookup(name, key_first=history)
        if instant is not None and resolution.name is None and not resolution.ambiguous:
            raise NameNotFound("model_not_found", f"no model named {name!r} as of {instant.isoformat()} "
                               f"(version {catalogue.version})", "model_name")
        if resolution.name is None and not resolution.ambiguous:
            # Not in this copy: a newer snapshot may hold it, so look again before saying 404.
            catalogue = self._current(wanted, force=True)
            resolution = catalogue.lookup(name, key_first=history)
        if resolution.ambiguous:
            url = (lambda n: f"/{identity.history_key(n)}") if history else identity.model_path
            raise _ambiguous("model", name, resolution.candidates, url)
        if resolution.name is None:
            raise NameNotFound("model_not_found", f"no model named {name!r}", "model_name")
        return catalogue, resolution.name, resolution.loose

    def get_model(self, request: Request, params: dict[str, str]) -> Response:
        catalogue, name, loose = self._find(request, params["model_name"], as_of=True)
        position = catalogue.by_name[name]
        content = catalogue.cached(("model", name), lambda: rendered(catalogue.record_bytes[position]))
        return ok(request, content, catalogue, by_identity(loose, self._lifetime(catalogue)),
                  extra={"Link": f'<{identity.model_path(name)}>; rel="canonical"'})

    def _lifetime(self, catalogue: Catalogue) -> str:
        """An as-of answer of a version a later one followed never changes (commit times do not): long."""
        settled = catalogue.source == SOURCE_LOG and catalogue.cursor_version < self.source.current().cursor_version
        return AS_OF_SETTLED_CACHE_CONTROL if settled else API_CACHE_CONTROL

    def _history(self, request: Request, catalogue: Catalogue, name: str, cache_control: str) -> Response:
        shard = identity.history_shard_key(name)
        # A shard in hand may predate the model's first event: look again before saying 404.
        document = find_document(self.source.object_bytes(shard), name) or \
            find_document(self.source.object_bytes(shard, fresh=True), name)
        if document is None:
            raise NameNotFound("history_not_found", f"no history recorded for {name!r} yet", "model_name")
        return ok(request, rendered(document), catalogue, cache_control,
                  extra={"Link": f'</{identity.history_key(name)}>; rel="canonical"'})

    def history(self, request: Request, params: dict[str, str]) -> Response:
        catalogue, name, loose = self._find(request, params["model_name"])
        return self._history(request, catalogue, name, by_identity(loose, API_CACHE_CONTROL))

    def history_file(self, request: Request, params: dict[str, str]) -> Response:
        """/history/<x>.json that S3 does not hold: the model `x` names, if exactly one."""
        catalogue, name, loose = self._find(request, _json_stem(params["file"]), history=True)
        return self._history(request, catalogue, name, by_identity(loose, JSON_CACHE_CONTROL))

    def provider_file(self, request: Request, params: dict[str, str]) -> Response:
        """/providers/<x>.json that S3 does not hold (or could not serve): the provider `x` names."""
        wanted = decode_name(_json_stem(params["file"]), "provider")
        version = reject_parameters(request.raw_query)
        catalogue = self._current(version)
        resolution = catalogue.providers_directory.resolve(wanted, key_first=True)
        if resolution.name is None and not resolution.ambiguous:
            catalogue = self._current(version, force=True)
            resolution = catalogue.providers_directory.resolve(wanted, key_first=True)
        if resolution.ambiguous:
            raise _ambiguous("provider", wanted, resolution.candidates, lambda n: f"/{identity.provider_key(n)}")
        if resolution.name is None:
            raise NameNotFound("provider_not_found", f"no provider named {wanted!r}", "provider")
        key = identity.provider_key(resolution.name)
        content = rendered(catalogue.provider_document_bytes(resolution.name))
        return ok(request, content, catalogue, by_identity(resolution.loose, JSON_CACHE_CONTROL),
                  extra={"Link": f'</{key}>; rel="canonical"'})

    def providers(self, request: Request, params: dict[str, str]) -> Response:
        catalogue = self._current(reject_parameters(request.raw_query))

        def build() -> Rendered:
            items = catalogue.providers()
            return rendered(json.dumps({"items": items, "count": len(items), "version": catalogue.version},
                                       ensure_ascii=False, separators=(",", ":")).encode())

        return ok(request, catalogue.cached(("providers-body",), build), catalogue)

    def changes(self, request: Request, params: dict[str, str]) -> Response:
        query = parse_changes_query(request.raw_query)
        catalogue = self._current(query.min_version)
        return ok(request, catalogue.cached(("changes", repr(query)), lambda: rendered(
            changes_page(self.versions, query, catalogue.cursor_version))), catalogue)

    def health(self, request: Request, params: dict[str, str]) -> Response:
        catalogue = self._current(reject_parameters(request.raw_query))
        now: datetime = self.source.wall_clock()
        document: dict[str, object] = {
            "status": "ok",
            "source": catalogue.source,
            "version": catalogue.version,
            "generated_at": catalogue.generated_at,
            "age_seconds": round(age_seconds(catalogue, self.source.loaded_at, now), 3),
            "count": catalogue.count,
        }
        if catalogue.fallback is not None:
            document["fallback"] = catalogue.fallback
        body = json.dumps(document, separators=(",", ":")).encode()
        return ok(request, rendered(body), catalogue, NO_STORE)

    def openapi_document(self, request: Request, params: dict[str, str]) -> Response:
        reject_parameters(request.raw_query)
        if self._openapi is None:
            self._openapi = rendered(self.openapi())
        return ok(request, self._openapi, None)

    def snapshot(self, request: Request, params: dict[str, str]) -> Response:
        # CloudFront sends these here only when S3 just failed for them, and forwards no query string.
        catalogue = self.source.current(prefer_fresh_s3=True)
        if request.path == "/llms.json":
            s3_etag = catalogue.etag if catalogue.source == SOURCE_S3 else None
            content = catalogue.cached(("snapshot", request.path),
                                       lambda: rendered(catalogue.document_bytes(), s3_etag))
        else:
            content = catalogue.cached(("snapshot", request.path), lambda: _array(catalogue))
        return ok(request, content, catalogue, JSON_CACHE_CONTROL)


def _array(catalogue: Catalogue) -> Rendered:
    """`llms` with the ETag S3 gave the object, when its stored content hash is that of these bytes."""
    body = catalogue.array_bytes()
    known = catalogue.array_object
    return rendered(body, known[0] if known is not None and known[1] == content_digest(body) else None)


def _json_stem(segment: str) -> str:
    if not segment.endswith(identity.JSON_SUFFIX) or len(segment) <= len(identity.JSON_SUFFIX):
        raise NotFound("route_not_found", "no such object: expected <name>.json")
    return segment[: -len(identity.JSON_SUFFIX)]
