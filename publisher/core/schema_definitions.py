"""The JSON Schema (2020-12) definitions of every published document and API answer, written once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from publisher.core.heartbeat import RUN_ID_PATTERN, WRITTEN_AT_PATTERN
from publisher.core.identity import KEY_PATTERN
from publisher.core.model import (
    MAX_BENCHMARK_NAME_LEN,
    MAX_BENCHMARKS,
    MAX_CONTEXT_WINDOW,
    MAX_NAME_LEN,
    MAX_PROVIDER_LEN,
    MAX_TIMESTAMP_LEN,
    MAX_VERSION_LEN,
)
from publisher.core.text import FORBIDDEN_CLASS

SCHEMA_VERSION = 1
TRACKED_FIELDS = ("provider", "context_window", "score", "version", "release_date")
EVENT_KINDS = ("added", "removed", "changed", "reconciled")
# Text the model refuses (publisher/core/text.py); a name must also hold a visible character.
_TEXT = f"^[^{FORBIDDEN_CLASS}]*$"
_NAME = f"^(?=.*\\S)[^{FORBIDDEN_CLASS}]+$"

Ref = Callable[[str], dict[str, str]]



def _text(max_length: int, pattern: str = _TEXT, min_length: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": pattern}
    if min_length:
        schema["minLength"] = min_length
    return schema


def _document(title: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "title": title,
        "type": "object",
        "required": ["$schema", "schema_version", *required],
        "additionalProperties": False,
        "properties": {
            "$schema": {"type": "string", "format": "uri-reference", "description": "This schema's URL."},
            "schema_version": {"const": SCHEMA_VERSION},
            **properties,
        },
    }


def definitions(ref: Ref) -> dict[str, dict[str, Any]]:
    """Every definition; `ref(name)` spells a reference to another one."""
    name = _text(MAX_NAME_LEN, _NAME, 1)
    provider = _text(MAX_PROVIDER_LEN, _NAME, 1)
    version = {"type": "integer", "minimum": 0, "description": "Snapshot version: only ever moves forward."}
    stamp = {"type": "string", "maxLength": MAX_TIMESTAMP_LEN, "description": "ISO 8601 time (UTC)."}
    key = {"type": "string", "pattern": KEY_PATTERN,
           "description": "The name's unique key: its object is at /history/<key>.json or /providers/<key>.json."}
    score = {"type": "number", "minimum": 0, "maximum": 100}
    model = ref("Model")["$ref"]
    # An added or removed model's tracked fields, each as the model defines it.
    tracked = {"type": "object", "additionalProperties": False,
               "properties": {f: {"$ref": f"{model}/properties/{f}"} for f in TRACKED_FIELDS}}
    return {
        "Model": {
            "title": "Model",
            "type": "object",
            "required": ["model_name", "provider", "score"],
            "additionalProperties": False,
            "properties": {
                "model_name": {**name, "description": "The model's identity: exact, case-sensitive."},
                "provider": provider,
                "context_window": {"type": "integer", "minimum": 1, "maximum": MAX_CONTEXT_WINDOW},
                "score": score,
                "version": _text(MAX_VERSION_LEN),
                "release_date": {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
                "benchmarks": {
                    "type": "object",
                    "maxProperties": MAX_BENCHMARKS,
                    "propertyNames": _text(MAX_BENCHMARK_NAME_LEN, min_length=1),
                    "additionalProperties": {"type": "number"},
                },
                "updated_at": stamp,
            },
        },
        "ModelArray": {
            "title": "The PoC contract (/llms): every model, best score first",
            "type": "array",
            "items": ref("Model"),
        },
        "Fallback": {
            "title": "Marks an answer the read API built from a DynamoDB scan because the snapshot was unreadable",
            "type": "object",
            "required": ["source", "reason", "scanned_at"],
            "additionalProperties": False,
            "properties": {
                "source": {"const": "dynamodb"},
                "reason": {"enum": ["snapshot_missing", "snapshot_unreadable"]},
                "scanned_at": stamp,
            },
            "description": "`version` is then the newest published version the server could find, or null when "
                           "it found none; the models are the table as scanned, which may be newer than it.",
        },
        "Catalogue": {
            **_document("The catalogue snapshot (/llms.json)", {
                "version": {**version, "type": ["integer", "null"]},
                "generated_at": stamp,
                "count": {"type": "integer", "minimum": 0},
                "models": {"type": "array", "items": ref("Model")},
                "fallback": ref("Fallback"),
            }, ["version", "generated_at", "count", "models"]),
            # Only a failover answer may lack a version; the published snapshot always has one.
            "if": {"not": {"required": ["fallback"]}},
            "then": {"properties": {"version": {"type": "integer"}}},
        },
        "ProviderDocument": _document("One provider and its models (/providers/<key>.json)", {
            "version": version,
            "generated_at": stamp,
            "provider": provider,
            "slug": key,
            "count": {"type": "integer", "minimum": 1},
            "best_score": score,
            "models": {"type": "array", "minItems": 1, "items": ref("Model")},
        }, ["version", "generated_at", "provider", "slug", "count", "best_score", "models"]),
        "Event": {
            "title": "One change: a model added, removed, or one field changed",
            "type": "object",
            "required": ["id", "version", "at", "kind", "model_name", "slug", "field", "old", "new", "sequence"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": "^\\d+-[0-9a-f]{16}$"},
                "version": {**version, "minimum": 1},
                "at": stamp,
                "kind": {"enum": list(EVENT_KINDS)},
                "model_name": name,
                "slug": key,
                "field": {"enum": [*TRACKED_FIELDS, None]},
                "old": {"anyOf": [{"type": ["null", "number", "string"]}, tracked]},
                "new": {"anyOf": [{"type": ["null", "number", "string"]}, tracked]},
                "sequence": {"type": ["string", "null"], "pattern": "^\\d+$"},
            },
        },
        "Changes": _document("The newest changes (/changes.json), newest first", {
            "version": version,
            "generated_at": stamp,
            "count": {"type": "integer", "minimum": 0},
            "events": {"type": "array", "items": ref("Event")},
        }, ["version", "generated_at", "count", "events"]),
        "History": _document("One model's change history (/history/<key>.json), newest first", {
            "model_name": name,
            "slug": key,
            "version": version,
            "count": {"type": "integer", "minimum": 0},
            "events": {"type": "array", "items": ref("Event")},
        }, ["model_name", "slug", "version", "count", "events"]),
        "ChangePage": {
            "title": "One page of GET /api/changes: the changes published after `since`, oldest first",
            "type": "object",
            "required": ["since", "version", "count", "changes", "next"],
            "additionalProperties": False,
            "properties": {
                "since": {**version, "description": "The version asked about (the llms.json the client holds)."},
                "version": {**version, "type": ["integer", "null"],
                            "description": "The current snapshot version: apply every page, then hold this one."},
                "count": {"type": "integer", "minimum": 0},
                "changes": {"type": "array", "items": {
                    "type": "object",
                    "required": ["version", "model_name", "slug", "at", "sequence", "source", "record", "events"],
                    "additionalProperties": False,
                    "properties": {
                        "version": {**version, "minimum": 1},
                        "model_name": name,
                        "slug": key,
                        "at": stamp,
                        "sequence": {"type": ["string", "null"]},
                        "source": {"enum": ["stream", "reconcile"]},
                        "record": {"anyOf": [ref("Model"), {"type": "null"}],
                                   "description": "The model's whole record after this change; null: removed."},
                        "events": {"type": "array", "items": ref("Event"),
                                   "description": "This change as changes.json words it (none when only untracked "
                                                  "fields such as benchmarks moved)."},
                    },
                }},
                "next": {"type": ["string", "null"], "description": "Cursor of the next page; null on the last."},
            },
        },
        "ModelPage": {
            "title": "One page of GET /api/llms",
            "type": "object",
            "required": ["items", "count", "total", "next", "version"],
            "additionalProperties": False,
            "properties": {
                "items": {"type": "array", "items": ref("Model")},
                "count": {"type": "integer", "minimum": 0},
                "total": {"type": "integer", "minimum": 0},
                "next": {"type": ["string", "null"], "description": "Cursor of the next page; null on the last."},
                "version": {**version, "type": ["integer", "null"],
                            "description": "Snapshot version answered from (null: a fallback that found none)."},
            },
        },
        "ProviderSummary": {
            "type": "object",
            "required": ["name", "slug", "count", "best_score"],
            "additionalProperties": False,
            "properties": {"name": provider, "slug": key, "count": {"type": "integer", "minimum": 1},
                           "best_score": score},
        },
        "ProviderList": {
            "title": "GET /api/providers",
            "type": "object",
            "required": ["items", "count", "version"],
            "additionalProperties": False,
            "properties": {
                "items": {"type": "array", "items": ref("ProviderSummary")},
                "count": {"type": "integer", "minimum": 0},
                "version": {**version, "type": ["integer", "null"]},
            },
        },
        "Health": {
            "title": "GET /api/health",
            "type": "object",
            "required": ["status", "source", "version", "generated_at", "age_seconds", "count"],
            "additionalProperties": False,
            "properties": {
                "status": {"const": "ok"},
                "source": {"enum": ["s3", "dynamodb"]},
                "version": {**version, "type": ["integer", "null"]},
                "generated_at": stamp,
                "age_seconds": {"type": "number", "minimum": 0,
                                "description": "Since the snapshot's generated_at (s3), or the scan (dynamodb)."},
                "count": {"type": "integer", "minimum": 0},
                "fallback": ref("Fallback"),
            },
        },
        "Heartbeat": _document(
            "health.json: the newest heartbeat of the freshness canary the publisher applied (not catalogue data)",
            {
                "heartbeat": {
                    "type": "object",
                    "required": ["run_id", "written_at", "last_version"],
                    "additionalProperties": False,
                    "properties": {
                        "run_id": {"type": "string", "pattern": RUN_ID_PATTERN},
                        "written_at": {"type": "string", "pattern": WRITTEN_AT_PATTERN,
                                       "description": "When the canary wrote it, UTC to the millisecond."},
                        "last_version": {**version, "type": ["integer", "null"],
                                         "description": "The highest snapshot version the canary had seen."},
                    },
                },
                "sequence": {"type": "string", "pattern": "^[0-9]+$",
                             "description": "The heartbeat's stream sequence number: health.json's order."},
                "stream_at": {**stamp, "description": "When the stream recorded the heartbeat."},
            },
            ["heartbeat", "sequence", "stream_at"],
        ),
        "SnapshotIndex": _document("The dated snapshots (/snapshots/index.json), oldest first", {
            "count": {"type": "integer", "minimum": 0},
            "snapshots": {"type": "array", "items": {
                "type": "object", "required": ["date", "version", "count", "url"], "additionalProperties": False,
                "properties": {
                    "date": {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$",
                             "description": "The UTC day whose first publish this copy of /llms.json is."},
                    "version": {**version, "minimum": 1}, "count": {"type": "integer", "minimum": 0},
                    "url": {"type": "string", "pattern": "^/snapshots/\\d{4}-\\d{2}-\\d{2}\\.json$",
                            "description": "Root-relative URL of the immutable copy (a Catalogue document)."},
                }}},
        }, ["count", "snapshots"]),
        "Error": {
            "title": "Every 4xx and 5xx answer of the read API (and a 300 for an ambiguous name)",
            "type": "object",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "parameter", "message"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string"},
                        "parameter": {"type": ["string", "null"], "description": "The input the error is about."},
                        "message": {"type": "string"},
                    },
                },
                "candidates": {
                    "type": "array",
                    "description": "For an ambiguous name: each name it could mean, with its own URL.",
                    "items": {"type": "object", "required": ["name", "url"], "additionalProperties": False,
                              "properties": {"name": {"type": "string"}, "url": {"type": "string"}}},
                },
            },
        },
    }
