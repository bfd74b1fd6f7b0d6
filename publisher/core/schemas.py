"""JSON Schemas (2020-12) of every published document and API answer, written once.

`definitions(ref)` (schema_definitions.py) is the single spelling; this module names the schema files
and serves them: the publisher serves each document's schema as a standalone file under /schemas/
(its dependencies in `$defs`), and the OpenAPI document of the read API embeds the same definitions
as its components, so the two can never drift.
"""

from __future__ import annotations

from typing import Any

from publisher.core.schema_definitions import definitions

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_PREFIX = "schemas/"
SCHEMA_TYPE = "application/schema+json"
# Published file name -> the definition it holds.
FILES = {
    "catalogue.schema.json": "Catalogue",
    "models.schema.json": "ModelArray",
    "provider.schema.json": "ProviderDocument",
    "changes.schema.json": "Changes",
    "history.schema.json": "History",
    "model-page.schema.json": "ModelPage",
    "change-page.schema.json": "ChangePage",
    "provider-list.schema.json": "ProviderList",
    "health.schema.json": "Health",
    "heartbeat.schema.json": "Heartbeat",
    "error.schema.json": "Error",
    "snapshot-index.schema.json": "SnapshotIndex",
}
_FILE_OF = {definition: name for name, definition in FILES.items()}


# Each published document names its schema with a root-relative URL: the same bytes are valid on
# every deployment and in the read API's failover copy, which does not know the public host name.
def schema_url(definition: str) -> str:
    """The root-relative URL a document's `$schema` names."""
    return f"/{SCHEMA_PREFIX}{_FILE_OF[definition]}"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].split("/")[2]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def standalone(definition: str) -> dict[str, Any]:
    """One definition as a self-contained schema file: what it refers to travels in `$defs`."""
    defs = definitions(lambda name: {"$ref": f"#/$defs/{name}"})
    needed: set[str] = set()
    pending = _refs(defs[definition])
    while pending:
        name = pending.pop()
        if name not in needed and name != definition:
            needed.add(name)
            pending |= _refs(defs[name])
    document = {"$schema": DIALECT, **defs[definition]}
    if needed:
        document["$defs"] = {name: defs[name] for name in sorted(needed)}
    return document


def openapi_components() -> dict[str, dict[str, Any]]:
    """The same definitions for an OpenAPI 3.1 document's `components.schemas`."""
    return definitions(lambda name: {"$ref": f"#/components/schemas/{name}"})
