"""Which published document has which JSON Schema, as a consumer reads them: what the schema tests check."""

from __future__ import annotations

# Each object document also names its schema itself, `schemas.schema_url`.
DOCUMENT_SCHEMAS = {
    "llms.json": "Catalogue",
    "llms": "ModelArray",
    "changes.json": "Changes",
    "health.json": "Heartbeat",
    "snapshots/index.json": "SnapshotIndex",
}
# A dated snapshot (snapshots/<YYYY-MM-DD>.json) is a copy of llms.json's bytes.
PREFIX_SCHEMAS = {"providers/": "ProviderDocument", "history/": "History", "snapshots/": "Catalogue"}


def schema_for_key(object_key: str) -> str | None:
    """The definition that describes a published object, or None for objects that are not JSON."""
    if object_key in DOCUMENT_SCHEMAS:
        return DOCUMENT_SCHEMAS[object_key]
    for prefix, definition in PREFIX_SCHEMAS.items():
        if object_key.startswith(prefix) and object_key.endswith(".json"):
            return definition
    return None
