"""The OpenAPI 3.1 document of the read API, with the paths as served at the edge and every bound."""

from __future__ import annotations

import json
from typing import Any

from publisher.model import MAX_CONTEXT_WINDOW, MAX_NAME_LEN, MAX_PROVIDER_LEN, MAX_VERSION_LEN
from publisher.read.query import (
    DEFAULT_LIMIT,
    MAX_CURSOR_LEN,
    MAX_LIMIT,
    MAX_PROVIDERS,
    MAX_Q_LEN,
    MIN_LIMIT,
    SORT_VALUES,
)

API_VERSION = "1.0.0"
# Printable text: the API refuses C0/C1 control characters in every parameter.
_PRINTABLE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
# A model name as a path segment: no separators, no '..', not '.', no control characters.
_MODEL_NAME = "^(?!.*\\.\\.)(?!\\.$)[^/\\\\\\u0000-\\u001f\\u007f-\\u009f]+$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Bad input: `error.parameter` names the parameter and `error.message` the rule.",
        404: "No such model, history or route.",
        405: "Only GET and HEAD are allowed.",
        500: "Unexpected failure (logged; no details are returned).",
        503: "No data can be read right now (S3 and DynamoDB both failed).",
    }
    return {str(status): _json(_ref("Error"), text[status]) for status in statuses}


def _ok(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "200": {
            **_json(schema, description),
            "headers": {
                "ETag": {"description": "Strong validator (quoted MD5 of the body).",
                         "schema": {"type": "string"}},
                "Cache-Control": {"schema": {"type": "string"}},
            },
        },
        "304": {"description": "Not modified: the If-None-Match validator still matches."},
    }


def _operation(operation_id: str, summary: str, responses: dict[str, Any],
               parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


_MODEL_NAME_PARAMETER = {
    "name": "model_name",
    "in": "path",
    "required": True,
    "description": "The exact model name (URL-encoded); a case-insensitive match is used when it is unique.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LEN, "pattern": _MODEL_NAME},
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
                       "a cursor from an older snapshot is a 400 (start again from the first page).",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR_LEN,
                   "pattern": "^[A-Za-z0-9_-]+$"},
    },
]

_SCHEMAS: dict[str, Any] = {
    "Model": {
        "type": "object",
        "required": ["model_name", "provider", "score"],
        "properties": {
            "model_name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LEN},
            "provider": {"type": "string", "minLength": 1, "maxLength": MAX_PROVIDER_LEN},
            "context_window": {"type": "integer", "minimum": 1, "maximum": MAX_CONTEXT_WINDOW},
            "score": {"type": "number", "minimum": 0, "maximum": 100},
            "version": {"type": "string", "maxLength": MAX_VERSION_LEN},
            "release_date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            "benchmarks": {"type": "object", "additionalProperties": {"type": "number"}},
            "updated_at": {"type": "string"},
        },
    },
    "ModelPage": {
        "type": "object",
        "required": ["items", "count", "total", "next", "version"],
        "properties": {
            "items": {"type": "array", "items": _ref("Model")},
            "count": {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT},
            "total": {"type": "integer", "minimum": 0},
            "next": {"type": ["string", "null"], "description": "Cursor of the next page; null on the last."},
            "version": {"type": "integer", "description": "Snapshot version answered from."},
        },
    },
    "Provider": {
        "type": "object",
        "required": ["name", "slug", "count", "best_score"],
        "properties": {
            "name": {"type": "string"},
            "slug": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "count": {"type": "integer", "minimum": 1},
            "best_score": {"type": "number", "minimum": 0, "maximum": 100},
        },
    },
    "ProviderList": {
        "type": "object",
        "required": ["items", "count", "version"],
        "properties": {
            "items": {"type": "array", "items": _ref("Provider")},
            "count": {"type": "integer", "minimum": 0},
            "version": {"type": "integer"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "source", "version", "generated_at", "age_seconds", "count"],
        "properties": {
            "status": {"const": "ok"},
            "source": {"enum": ["s3", "dynamodb"]},
            "version": {"type": "integer"},
            "generated_at": {"type": "string"},
            "age_seconds": {"type": "number", "minimum": 0,
                            "description": "Since the snapshot's generated_at (s3), or the scan (dynamodb)."},
            "count": {"type": "integer", "minimum": 0},
        },
    },
    "Catalogue": {
        "type": "object",
        "required": ["schema_version", "version", "generated_at", "count", "models"],
        "properties": {
            "schema_version": {"const": 1},
            "version": {"type": "integer", "minimum": 0},
            "generated_at": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "models": {"type": "array", "items": _ref("Model")},
        },
    },
    "History": {
        "type": "object",
        "description": "The model's change history as the publisher's change feed writes it.",
        "properties": {"events": {"type": "array", "items": {"type": "object"}}},
    },
    "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "parameter", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "parameter": {"type": ["string", "null"], "description": "The input the error is about."},
                    "message": {"type": "string"},
                },
            }
        },
    },
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LLM catalogue read API",
            "version": API_VERSION,
            "description": "Filtered queries and lookups over the published catalogue snapshot. Every route "
                           "answers GET and HEAD with a strong ETag (304 on If-None-Match) and CORS for any "
                           "origin. Unknown query parameters are a 400, so typos never pass silently.",
        },
        "paths": {
            "/api/llms": _operation(
                "listModels", "Models matching the filters, one page at a time",
                {**_ok(_ref("ModelPage"), "One page of models."), **_errors(400, 405, 500, 503)},
                _LIST_PARAMETERS,
            ),
            "/api/llms/{model_name}": _operation(
                "getModel", "One model by name",
                {**_ok(_ref("Model"), "The model."), **_errors(400, 404, 405, 500, 503)},
                [_MODEL_NAME_PARAMETER],
            ),
            "/api/llms/{model_name}/history": _operation(
                "getModelHistory", "The change history of one model",
                {**_ok(_ref("History"), "Its history, newest first."), **_errors(400, 404, 405, 500, 503)},
                [_MODEL_NAME_PARAMETER],
            ),
            "/api/providers": _operation(
                "listProviders", "Providers with their model count and best score",
                {**_ok(_ref("ProviderList"), "Every provider, best first."), **_errors(400, 405, 500, 503)},
            ),
            "/api/health": _operation(
                "health", "Snapshot version, age and source",
                {**_ok(_ref("Health"), "Data can be read."), **_errors(400, 405, 500, 503)},
            ),
            "/api/openapi.json": _operation(
                "openapi", "This document",
                {**_ok(_ref("OpenApi"), "OpenAPI 3.1."), **_errors(400, 405, 500)},
            ),
            "/llms.json": _operation(
                "snapshot", "The whole catalogue (from S3 through the CDN; the API answers when S3 cannot)",
                {**_ok(_ref("Catalogue"), "The snapshot."), **_errors(404, 405, 500, 503)},
            ),
            "/llms": _operation(
                "snapshotArray", "The PoC contract: the bare array of the same models",
                {**_ok({"type": "array", "items": _ref("Model")}, "Every model."),
                 **_errors(404, 405, 500, 503)},
            ),
        },
        "components": {"schemas": _SCHEMAS},
    }


def document_bytes() -> bytes:
    return json.dumps(document(), separators=(",", ":")).encode()
