"""The OpenAPI document states each cursor's and as_of's exact form, and schemathesis.toml widens one check
for exactly the operations that take one (a well-formed value that names nothing is rightly a 400)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from publisher.read import cursor
from publisher.read.as_of import parse_instant
from publisher.read.changes import CURSOR_PATTERN, MAX_LIMIT
from publisher.read.errors import BadRequest
from publisher.read.openapi import document
from publisher.read.query import MAX_VERSION, parse_list_query

ROOT = Path(__file__).resolve().parents[2]
UNKNOWABLE = {"cursor", "as_of"}


def _schema(name: str, list_route: bool) -> dict:
    """The one schema of parameter `name` on the list route's operations or on the others'."""
    (schema,) = {str(p["schema"]): p["schema"] for p in _parameters(name, list_route)}.values()
    return schema


def _parameters(name: str, list_route: bool | None = None) -> list[dict]:
    return [parameter for path, item in document()["paths"].items() for method, operation in item.items()
            if method in ("get", "head") and list_route in (None, path == "/api/llms")
            for parameter in operation.get("parameters", []) if parameter["name"] == name]


def test_every_cursor_the_list_issues_matches_its_documented_pattern() -> None:
    schema = _schema("cursor", list_route=True)
    query = parse_list_query("provider=openai&sort=-score")
    for offset in (0, 1, 99, 10**9):
        for version in (-1, 0, 7, MAX_VERSION):
            issued = cursor.encode("salt", version, query, offset)
            assert re.fullmatch(schema["pattern"], issued), issued
            assert schema["minLength"] <= len(issued) <= schema["maxLength"]
    # The bounds are tight: the shortest and the longest cursor reach them.
    assert len(cursor.encode("s", 0, query, 0)) == schema["minLength"]
    assert len(cursor.encode("s", MAX_VERSION, query, 10**9)) == schema["maxLength"]


def test_the_changes_cursor_pattern_is_what_the_server_parses() -> None:
    schema = _schema("cursor", list_route=False)
    assert schema["pattern"] == f"^{CURSOR_PATTERN}$"
    assert re.fullmatch(schema["pattern"], f"{MAX_VERSION}.{MAX_LIMIT}")
    assert not re.fullmatch(schema["pattern"], "eyJvIjowLCJ2IjowfQ")


def test_as_of_is_documented_with_the_servers_own_pattern() -> None:
    (schema,) = {str(p["schema"]): p["schema"] for p in _parameters("as_of")}.values()
    accepted = ["2026-01-31T12:00Z", "2026-01-31t12:00:00.123456789z", "2026-01-31T13:00:00+01:00"]
    refused = ["2026-01-31", "2026-01-31T12:00", "2026-01-31 12:00Z", "yesterday"]
    for raw in accepted:
        assert re.fullmatch(schema["pattern"], raw) and parse_instant(raw)
    for raw in refused:
        assert not re.fullmatch(schema["pattern"], raw)
        try:
            parse_instant(raw)
        except BadRequest as error:
            assert error.parameter == "as_of"
        else:
            raise AssertionError(f"{raw} was accepted")


def test_the_schemathesis_exception_covers_exactly_the_operations_taking_a_cursor_or_as_of() -> None:
    config = tomllib.loads((ROOT / "schemathesis.toml").read_text())
    widened, preflights = config["operations"]
    statuses = widened["checks"]["positive_data_acceptance"]["expected-statuses"]
    # schemathesis' default set plus 400, nothing else, and no other check or top-level setting touched.
    assert set(statuses) == {"2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"}
    assert set(config) == {"operations"} and set(widened) == {"include-operation-id", "checks"}
    # The one other setting: nothing a preflight accepted is reused as a known-good value elsewhere.
    assert preflights == {"include-method": "OPTIONS", "phases": {
        "examples": {"enabled": False}, "coverage": {"enabled": False},
        "fuzzing": {"extra-data-sources": {"responses": False}}}}
    assert set(widened["checks"]) == {"positive_data_acceptance"}
    taking = {operation["operationId"] for item in document()["paths"].values()
              for method, operation in item.items() if method in ("get", "head")
              and UNKNOWABLE & {p["name"] for p in operation.get("parameters", [])}}
    assert set(widened["include-operation-id"]) == taking
    # Each documents the 400 for what its schema cannot state.
    for item in document()["paths"].values():
        for method, operation in item.items():
            if method == "get" and operation["operationId"] in taking:
                assert "cursor this server did not issue" in operation["responses"]["400"]["description"]


def test_the_name_schemathesis_reused_from_a_preflight_is_schema_invalid() -> None:
    """Why schemathesis.toml records nothing from preflights: the ST202 it reported was for a model_name
    (U+0018 then 'h') a preflight had accepted, which the documented pattern refuses: the 400 was right."""
    (schema,) = {str(p["schema"]): p["schema"] for p in _path_parameters("model_name")}.values()
    assert not re.fullmatch(schema["pattern"], "\x18h")
    assert re.fullmatch(schema["pattern"], "o1")


def _path_parameters(name: str) -> list[dict]:
    return [parameter for item in document()["paths"].values() for parameter in item.get("parameters", [])
            if parameter["name"] == name]
