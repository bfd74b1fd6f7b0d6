"""The OpenAPI 3.1 document of the read API, with the paths as served at the edge and every bound."""

from __future__ import annotations

import json
from typing import Any

from publisher.core import edge_contract, schemas, text
from publisher.core.model import MAX_CONTEXT_WINDOW, MAX_NAME_LEN, MAX_PROVIDER_LEN
from publisher.read import cursor
from publisher.read.as_of import AS_OF, INSTANT_PATTERN, MAX_AS_OF_LEN
from publisher.read.changes import CURSOR_PATTERN as CHANGES_CURSOR_PATTERN
from publisher.read.changes import DEFAULT_LIMIT as CHANGES_DEFAULT_LIMIT
from publisher.read.changes import MAX_CHANGES_CURSOR_LEN, SINCE
from publisher.read.changes import MAX_LIMIT as CHANGES_MAX_LIMIT
from publisher.read.http import ALLOWED_METHODS
from publisher.read.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_PROVIDERS,
    MAX_Q_LEN,
    MAX_VERSION,
    MIN_LIMIT,
    MIN_VERSION,
    SORT_VALUES,
)

API_VERSION = "1.0.0"
# Printable text: the API refuses control, bidi and zero-width characters in every parameter.
_PRINTABLE = f"^[^{text.FORBIDDEN_CLASS}]*$"
# A model name as a path segment: no separators, no '..', not '.', none of those characters.
_MODEL_NAME = f"^(?!.*\\.\\.)(?!\\.$)[^/\\\\{text.FORBIDDEN_CLASS}]+$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# What no schema can say (schemathesis.toml expects this 400 of these operations' valid-looking input).
_UNKNOWABLE_400 = (" A value that matches its schema can still be refused: a cursor this server did not issue "
                   "for this query and snapshot, or an as_of instant outside the retained history.")


def _errors(*statuses: int, unknowable: bool = False) -> dict[str, Any]:
    text = {
        300: "Ambiguous: a case-insensitive or slug lookup matched several names; `candidates` lists each "
             "with its own URL.",
        400: "Bad input: `error.parameter` names the parameter and `error.message` the rule.",
        404: "No such model, history, provider or route (a name's 404 is never cached: it may be published "
             "any moment).",
        405: "Only the methods of the edge contract are allowed (GET, HEAD, OPTIONS).",
        410: "since is older than the retained log of versions: reload /llms.json and ask with its version.",
        409: "min_version is newer than the snapshot this server can read yet: retry after Retry-After.",
        500: "Unexpected failure (logged; no details are returned).",
        503: "No data can be read right now (S3 and DynamoDB both failed).",
    }
    if unknowable:
        text[400] += _UNKNOWABLE_400
    return {str(status): _json(_ref("Error"), text[status]) for status in statuses}


def _ok(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "200": {
            **_json(schema, description),
            "headers": {
                "ETag": {"description": "Strong validator (quoted MD5 of the body).",
                         "schema": {"type": "string"}},
                "Cache-Control": {"schema": {"type": "string"}},
                "X-Snapshot-Version": {"description": "The snapshot version answered from (absent only on a "
                                                      "fallback that found none).",
                                       "schema": {"type": "string", "pattern": "^\\d+$"}},
            },
        },
        "304": {"description": "Not modified: the If-None-Match validator still matches."},
    }


def _methods(operation_id: str, summary: str, responses: dict[str, Any],
             parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """GET, and from the same description HEAD (no body) and OPTIONS (CORS preflight), as served.
    Path parameters belong to the path item (every method has them); query parameters to GET and HEAD."""
    in_path = [p for p in parameters or [] if p["in"] == "path"]
    in_query = [p for p in parameters or [] if p["in"] != "path"]
    get: dict[str, Any] = {"operationId": operation_id, "summary": summary, "responses": responses}
    if in_query:
        get["parameters"] = in_query
    head = {**get, "operationId": f"{operation_id}Head", "summary": f"{summary} (headers only)",
            "responses": {status: {"description": answer["description"]} for status, answer in responses.items()}}
    options: dict[str, Any] = {"operationId": f"{operation_id}Preflight", "summary": "CORS preflight (any origin)",
                               "responses": {"204": {"description": "The CORS headers; no body."}}}
    if in_path:
        # A preflight is answered from the contract alone, for any value (as S3's CORS rule does).
        options["parameters"] = [{**p, "schema": {"type": "string"}} for p in in_path]
    by_method = {"get": get, "head": head, "options": options}
    item: dict[str, Any] = {"parameters": in_path} if in_path else {}
    item.update({method.lower(): by_method[method.lower()] for method in ALLOWED_METHODS})
    return item


_MIN_VERSION_PARAMETER = {
    "name": MIN_VERSION, "in": "query",
    "description": "Answer from this snapshot version or a newer one (the `version` of the llms.json you "
                   "read), never an older one: a 409 asks to retry if this server cannot read it yet.",
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_VERSION},
}

_AS_OF_PARAMETER = {
    "name": AS_OF, "in": "query",
    "description": "Answer from the catalogue exactly as published at this ISO 8601 instant (with its offset): "
                   "the newest version committed at or before it, replayed from the log of versions (the "
                   "answer's `version` and X-Snapshot-Version name it). Before the first version, in the "
                   "future or malformed: a 400 whose message names the available range (no schema can "
                   "state that range: it moves with every publish and every expiry).",
    "schema": {"type": "string", "maxLength": MAX_AS_OF_LEN, "format": "date-time",
               "pattern": f"^{INSTANT_PATTERN}$"},
}

_MODEL_NAME_PARAMETER = {
    "name": "model_name",
    "in": "path",
    "required": True,
    "description": "The exact model name (URL-encoded), or its key; its name in another case or its slug "
                   "also works when exactly one model has it, answered with `Cache-Control: no-store` and a "
                   "`Link` to the exact name's URL (rel=canonical); several: a 300 listing them.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LEN, "pattern": _MODEL_NAME},
}

_FILE_PARAMETER = {
    "name": "file",
    "in": "path",
    "required": True,
    "description": "`<name>.json`: the key S3 holds, or any name, key or unambiguous slug of one (a slug or "
                   "another case is answered `no-store`, with a `Link` to the canonical URL).",
    "schema": {"type": "string", "minLength": 6, "maxLength": MAX_NAME_LEN + 5,
               "pattern": "^(?!.*\\.\\.)[^/\\\\\\u0000-\\u001f\\u007f-\\u009f]+\\.json$"},
}

_LIST_PARAMETERS = [
    {
        "name": "provider", "in": "query", "style": "form", "explode": True,
        "description": "Only these providers (repeat the parameter for several; case-insensitive).",
        "schema": {"type": "array", "maxItems": MAX_PROVIDERS,
                   "items": {"type": "string", "minLength": 1, "maxLength": MAX_PROVIDER_LEN,
                             "pattern": _PRINTABLE}},
    },
    {
        "name": "q", "in": "query",
        "description": "Case-insensitive substring of the model name or version.",
        "schema": {"type": "string", "maxLength": MAX_Q_LEN, "pattern": _PRINTABLE},
    },
    {"name": "min_score", "in": "query", "description": "Lowest score, inclusive.",
     "schema": {"type": "number", "minimum": 0, "maximum": 100}},
    {"name": "max_score", "in": "query",
     "description": "Highest score, inclusive (below min_score the result is simply empty).",
     "schema": {"type": "number", "minimum": 0, "maximum": 100}},
    {"name": "min_context", "in": "query", "description": "Smallest context window in tokens, inclusive.",
     "schema": {"type": "integer", "minimum": 0, "maximum": MAX_CONTEXT_WINDOW}},
    {
        "name": "sort", "in": "query",
        "description": "Sort field, '-' prefix for descending; ties by model_name, missing values last. "
                       "Default: the published order (score descending, then model_name).",
        "schema": {"type": "string", "enum": list(SORT_VALUES)},
    },
    {"name": "limit", "in": "query", "description": "Page size.",
     "schema": {"type": "integer", "minimum": MIN_LIMIT, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
    {
        "name": "cursor", "in": "query",
        "description": "Opaque: the `next` of the previous page. Bound to the filters, sort and snapshot; "
                       "a cursor from an older snapshot, or any cursor this server did not issue for these "
                       "filters, is a 400 (start again from the first page).",
        "schema": {"type": "string", "minLength": cursor.MIN_LEN, "maxLength": cursor.MAX_LEN,
                   "pattern": cursor.PATTERN},
    },
]


_CHANGES_PARAMETERS = [
    {"name": SINCE, "in": "query", "required": True,
     "description": "The `version` of the llms.json you hold: answers every change published after it, oldest "
                    "first (none when it is the current version or newer).",
     "schema": {"type": "integer", "minimum": 0, "maximum": MAX_VERSION}},
    {"name": "limit", "in": "query", "description": "Changes per page.",
     "schema": {"type": "integer", "minimum": 1, "maximum": CHANGES_MAX_LIMIT, "default": CHANGES_DEFAULT_LIMIT}},
    {"name": "cursor", "in": "query",
     "description": "The `next` of the previous page (with the same since): `<version>.<offset>`; one that names "
                    "no page of this since is a 400.",
     "schema": {"type": "string", "maxLength": MAX_CHANGES_CURSOR_LEN, "pattern": f"^{CHANGES_CURSOR_PATTERN}$"}},
]


def _operations() -> dict[str, tuple[Any, ...]]:
    """Each operation of the edge contract's routes, by operationId: summary, responses, parameters."""
    simple = [_MIN_VERSION_PARAMETER]
    return {
        "listModels": (
            "Models matching the filters, one page at a time",
            {**_ok(_ref("ModelPage"), "One page of models."), **_errors(400, 405, 409, 500, 503, unknowable=True)},
            [*_LIST_PARAMETERS, _AS_OF_PARAMETER, _MIN_VERSION_PARAMETER],
        ),
        "getModel": (
            "One model by name",
            {**_ok(_ref("Model"), "The model."), **_errors(300, 400, 404, 405, 409, 500, 503, unknowable=True)},
            [_MODEL_NAME_PARAMETER, _AS_OF_PARAMETER, *simple],
        ),
        "getModelHistory": (
            "The change history of one model",
            {**_ok(_ref("History"), "Its history, newest first."), **_errors(300, 400, 404, 405, 409, 500, 503)},
            [_MODEL_NAME_PARAMETER, *simple],
        ),
        "listChanges": (
            "Every change published after a version, oldest first: catch up without reloading llms.json",
            {**_ok(_ref("ChangePage"), "One page of changes."),
             **_errors(400, 405, 409, 410, 500, 503, unknowable=True)},
            [*_CHANGES_PARAMETERS, _MIN_VERSION_PARAMETER],
        ),
        "listProviders": (
            "Providers with their model count and best score",
            {**_ok(_ref("ProviderList"), "Every provider, best first."), **_errors(400, 405, 409, 500, 503)},
            simple,
        ),
        "health": (
            "Snapshot version, age and source",
            {**_ok(_ref("Health"), "Data can be read."), **_errors(400, 405, 409, 500, 503)},
            simple,
        ),
        "openapi": (
            "This document",
            {**_ok({"type": "object", "required": ["openapi", "paths"]}, "OpenAPI 3.1."),
             **_errors(400, 405, 500)},
        ),
        "snapshot": (
            "The whole catalogue (from S3 through the CDN; the API answers when S3 cannot)",
            {**_ok(_ref("Catalogue"), "The snapshot."), **_errors(404, 405, 500, 503)},
        ),
        "snapshotArray": (
            "The PoC contract: the bare array of the same models",
            {**_ok(_ref("ModelArray"), "Every model."), **_errors(404, 405, 500, 503)},
        ),
        "historyFile": (
            "A model's history by a URL S3 does not hold: an older slug URL or a loose name",
            {**_ok(_ref("History"), "The history of the one model the name means."),
             **_errors(300, 400, 404, 405, 409, 500, 503)},
            [_FILE_PARAMETER, *simple],
        ),
        "providerFile": (
            "A provider's document by a URL S3 does not hold (or could not serve)",
            {**_ok(_ref("ProviderDocument"), "The one provider the name means."),
             **_errors(300, 400, 404, 405, 409, 500, 503)},
            [_FILE_PARAMETER, *simple],
        ),
    }


def document() -> dict[str, Any]:
    operations = _operations()
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": schemas.DIALECT,
        "info": {
            "title": "LLM catalogue read API",
            "version": API_VERSION,
            "description": "Filtered queries and lookups over the published catalogue snapshot. Every route "
                           "answers GET, HEAD and OPTIONS (CORS preflight) with CORS for any origin, and GET "
                           "with a strong ETag (304 on If-None-Match). Unknown query parameters are a 400, so "
                           "typos never pass silently. The schemas are the ones the site serves under "
                           "/schemas/ for its published documents.",
        },
        # The paths are the edge contract's routes, in its order (publisher/core/edge_contract.json).
        "paths": {route.path: _methods(route.operation, *operations[route.operation])
                  for route in edge_contract.routes()},
        "components": {"schemas": schemas.openapi_components()},
    }


def document_bytes() -> bytes:
    return json.dumps(document(), separators=(",", ":")).encode()
