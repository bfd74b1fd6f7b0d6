"""JSON Schemas of every published document: valid 2020-12, every rendered document conforms, breakage is caught."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from publisher.core import schema_definitions, schemas
from publisher.core.documents import catalogue_document
from publisher.core.history_shards import split
from publisher.core.identity import HISTORY_SHARD_PREFIX, history_key
from publisher.core.model import to_record
from publisher.core.text import forbidden_character
from publisher.publish import feed
from publisher.publish.render import render_site
from publisher.publish.state import Change, State
from publisher.read import openapi
from tests.published_schemas import DOCUMENT_SCHEMAS, schema_for_key
from tests.unit.test_feed import NoStore

AT = "2026-01-01T00:00:00Z"
MODELS = {
    "GPT-4": {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5,
              "version": "0613", "release_date": "2023-03-14", "benchmarks": {"mmlu": 86.4},
              "updated_at": "2024-01-01T00:00:00Z"},
    "twin-a": {"model_name": "twin-a", "provider": "twinco", "score": 91.0},
    "Twin A": {"model_name": "Twin A", "provider": "TwinCo", "score": 0.0},
    "模型 ü": {"model_name": "模型 ü", "provider": "Évian & Co", "score": 100.0},
}


def validator(definition: str) -> Draft202012Validator:
    return Draft202012Validator(schemas.standalone(definition), format_checker=FormatChecker())


def published_documents() -> dict[str, Any]:
    """Every JSON document one publish writes (site, feed and history), by key."""
    feed_ = feed.ChangeFeed(NoStore())  # type: ignore[arg-type]
    state = State(version=0, models=dict(MODELS))
    changes = [Change(name, None, record, AT, str(i + 1), "stream") for i, (name, record) in enumerate(MODELS.items())]
    changes.append(Change("GPT-4", MODELS["GPT-4"], {**MODELS["GPT-4"], "score": 96.0}, AT, "9", "stream"))
    changes.append(Change("gone", {"model_name": "gone", "provider": "X", "score": 1.0}, None, AT, None, "reconcile"))
    feed_.record(state, changes)
    state.version, state.generated_at = 1, AT
    objects = render_site(1, AT, MODELS) + feed_.render(state, [], NoStore())  # type: ignore[arg-type]
    documents = {o.key: json.loads(o.body) for o in objects if schema_for_key(o.key) is not None}
    # Histories are served at history/<key>.json from their lines in the private shards.
    for shard in (o for o in objects if o.key.startswith(HISTORY_SHARD_PREFIX)):
        for name, line in split(shard.key, shard.body).items():
            documents[history_key(name)] = json.loads(line)
    return documents


@pytest.mark.parametrize("name", sorted(schemas.FILES))
def test_every_schema_file_is_a_valid_2020_12_schema(name: str) -> None:
    schema = schemas.standalone(schemas.FILES[name])
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_published_json_document_has_a_schema_and_validates() -> None:
    documents = published_documents()
    expected = {"llms.json", "llms", "changes.json", history_key("GPT-4"), history_key("Twin A")}
    assert expected <= set(documents)
    assert sum(k.startswith("providers/") for k in documents) == 4
    assert sum(k.startswith("history/") for k in documents) == 5
    for key, document in documents.items():
        definition = schema_for_key(key)
        assert definition is not None
        validator(definition).validate(document)
        if isinstance(document, dict):
            assert document["$schema"] == schemas.schema_url(definition), key


def test_the_schema_files_themselves_are_published_where_documents_say() -> None:
    objects = {o.key: o for o in render_site(1, AT, MODELS)}
    for key, definition in DOCUMENT_SCHEMAS.items():
        published = objects[schemas.schema_url(definition).lstrip("/")]
        assert json.loads(published.body) == schemas.standalone(definition), key


@pytest.mark.parametrize(("mutate", "why"), [
    (lambda d: d["models"][0].__setitem__("score", "95.5"), "string score"),
    (lambda d: d["models"][0].__setitem__("score", 101), "score over 100"),
    (lambda d: d["models"][0].pop("provider"), "model without provider"),
    (lambda d: d["models"][0].__setitem__("model_name", "a\nb"), "control character in a name"),
    (lambda d: d["models"][0].__setitem__("release_date", "2024-13-45"), "impossible date"),
    (lambda d: d["models"][0].__setitem__("price", 1), "unknown model field"),
    (lambda d: d.__setitem__("version", None), "no version without the fallback marker"),
    (lambda d: d.__setitem__("version", -1), "negative version"),
    (lambda d: d.pop("$schema"), "no $schema"),
])
def test_the_catalogue_schema_rejects_a_broken_document(mutate: Any, why: str) -> None:
    document = copy.deepcopy(published_documents()["llms.json"])
    mutate(document)
    with pytest.raises(ValidationError):
        validator("Catalogue").validate(document)


def test_a_fallback_document_may_say_it_knows_no_version_but_must_say_it_is_a_fallback() -> None:
    fallback = {"source": "dynamodb", "reason": "snapshot_missing", "scanned_at": AT}
    document = catalogue_document(None, AT, list(MODELS.values()), fallback)
    validator("Catalogue").validate(document)
    validator("Catalogue").validate(catalogue_document(41, AT, list(MODELS.values()), fallback))
    document["fallback"] = {"source": "guess"}
    with pytest.raises(ValidationError):
        validator("Catalogue").validate(document)


def test_the_openapi_document_is_valid_and_reuses_the_published_definitions() -> None:
    from openapi_spec_validator import validate

    document = openapi.document()
    validate(document)
    assert document["components"]["schemas"] == schemas.openapi_components()
    published = schemas.standalone("Catalogue")
    embedded = document["components"]["schemas"]["Catalogue"]
    assert published["properties"].keys() == embedded["properties"].keys()
    assert published["$defs"]["Model"] == document["components"]["schemas"]["Model"]


def test_the_event_schema_tracks_the_fields_the_feed_tracks() -> None:
    assert schema_definitions.TRACKED_FIELDS == feed.TRACKED


# Valid text: anything the shared rule (publisher/core/text.py) lets through.
text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda v: v.strip() and forbidden_character(v) is None)
items = st.fixed_dictionaries(
    {"model_name": text, "provider": text, "score": st.floats(0, 100, allow_nan=False)},
    optional={"context_window": st.integers(1, 10**9), "version": st.text(max_size=64).filter(
        lambda v: forbidden_character(v) is None),
              "release_date": st.dates().map(lambda d: d.isoformat()).filter(lambda d: len(d) == 10),
              "benchmarks": st.dictionaries(st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                                                    max_size=10), st.floats(-1e9, 1e9), max_size=5)},
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(items, max_size=12, unique_by=lambda i: i["model_name"]))
def test_any_valid_catalogue_renders_documents_that_validate(raw: list[dict[str, Any]]) -> None:
    records = {r["model_name"]: r for r in map(to_record, raw)}
    for obj in render_site(3, AT, records):
        definition = schema_for_key(obj.key)
        if definition is not None:
            validator(definition).validate(json.loads(obj.body))


def test_check_jsonschema_accepts_the_rendered_documents_and_rejects_a_broken_copy(tmp_path: Path) -> None:
    cli = shutil.which("check-jsonschema") or str(Path(__file__).resolve().parents[2] / ".venv/bin/check-jsonschema")
    documents = published_documents()
    schema_file = tmp_path / "catalogue.schema.json"
    schema_file.write_text(json.dumps(schemas.standalone("Catalogue")))
    good = tmp_path / "llms.json"
    good.write_text(json.dumps(documents["llms.json"]))
    broken = copy.deepcopy(documents["llms.json"])
    broken["models"][0]["score"] = "95.5"
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(broken))
    ok = subprocess.run([cli, "--schemafile", str(schema_file), str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rejected = subprocess.run([cli, "--schemafile", str(schema_file), str(bad)], capture_output=True, text=True)
    assert rejected.returncode != 0 and "score" in rejected.stdout + rejected.stderr
