"""Rendering: the snapshot documents, their headers, determinism and escaping."""

from __future__ import annotations

import json

from publisher.core.config import JSON_CACHE_CONTROL, S_MAXAGE, STALE_IF_ERROR, STALE_WHILE_REVALIDATE
from publisher.core.identity import provider_key
from publisher.publish.render import render_site


def _models() -> dict[str, dict]:
    return {
        "GPT-4": {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5},
        "Claude 3 Opus": {"model_name": "Claude 3 Opus", "provider": "Anthropic", "context_window": 200000,
                          "score": 96.0},
        "Evil": {"model_name": "<img src=x onerror=alert(1)>", "provider": "Open&AI", "score": 50.0},
    }


def _by_key(objects):
    return {o.key: o for o in objects}


def test_llms_json_follows_the_design_document() -> None:
    objects = _by_key(render_site(7, "2026-01-01T00:00:00Z", _models()))
    doc = json.loads(objects["llms.json"].body)
    assert list(doc) == ["$schema", "schema_version", "version", "generated_at", "count", "models"]
    assert doc["schema_version"] == 1 and doc["version"] == 7 and doc["count"] == 3
    assert doc["$schema"] == "/schemas/catalogue.schema.json" and "schemas/catalogue.schema.json" in objects
    assert [m["model_name"] for m in doc["models"]] == ["Claude 3 Opus", "GPT-4", "<img src=x onerror=alert(1)>"]
    assert json.loads(objects["llms"].body) == doc["models"]


def test_provider_documents_group_models_by_exact_provider_name_under_its_key() -> None:
    models = {**_models(), "o1": {"model_name": "o1", "provider": "openai", "score": 90.0}}
    objects = _by_key(render_site(1, "2026-01-01T00:00:00Z", models))
    openai = json.loads(objects[provider_key("OpenAI")].body)
    assert openai["provider"] == "OpenAI" and openai["count"] == 1 and openai["models"][0]["model_name"] == "GPT-4"
    assert openai["slug"] == provider_key("OpenAI")[len("providers/"):-len(".json")]
    lower = json.loads(objects["providers/openai.json"].body)
    assert lower["provider"] == "openai" and [m["model_name"] for m in lower["models"]] == ["o1"]
    assert provider_key("Open&AI") in objects


def directives(cache_control: str) -> dict[str, str | None]:
    parsed: dict[str, str | None] = {}
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        parsed[name] = value or None
    return parsed


# The freshness contract SOLUTION.md section 6 states, directive by directive.
DOCUMENT_CACHE = {"public": None, "max-age": "5", "s-maxage": "10", "stale-while-revalidate": "20",
                  "stale-if-error": "86400"}
ASSET_CACHE = {"public": None, "max-age": "31536000", "immutable": None}


def test_every_object_carries_exactly_the_cache_directives_of_its_kind() -> None:
    objects = render_site(1, "2026-01-01T00:00:00Z", _models())
    kinds = {"document": 0, "asset": 0}
    for obj in objects:
        assert obj.content_type, obj.key
        if obj.key.startswith("static/"):
            assert directives(obj.cache_control) == ASSET_CACHE, obj.key
            kinds["asset"] += 1
        else:
            assert directives(obj.cache_control) == DOCUMENT_CACHE, obj.key
            kinds["document"] += 1
        if obj.key.startswith("schemas/"):
            assert obj.content_type.startswith("application/schema+json")
        elif obj.key.endswith(".json") or obj.key == "llms":
            assert obj.content_type.startswith("application/json")
    assert kinds["document"] >= 4 and kinds["asset"] >= 2
    assert (S_MAXAGE, STALE_WHILE_REVALIDATE, STALE_IF_ERROR) == (10, 20, 86400)
    assert directives(JSON_CACHE_CONTROL) == DOCUMENT_CACHE


def test_same_data_gives_byte_identical_objects() -> None:
    first = render_site(3, "2026-01-01T00:00:00Z", _models())
    reordered = dict(reversed(list(_models().items())))
    second = render_site(3, "2026-01-01T00:00:00Z", reordered)
    assert [(o.key, o.body, o.digest) for o in first] == [(o.key, o.body, o.digest) for o in second]


def test_page_escapes_model_names() -> None:
    page = _by_key(render_site(1, "2026-01-01T00:00:00Z", _models()))["index.html"].body.decode()
    assert "<img src=x onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Open&amp;AI" in page


def test_static_assets_are_content_addressed_and_immutable() -> None:
    statics = [o for o in render_site(1, "2026-01-01T00:00:00Z", {}) if o.key.startswith("static/")]
    assert statics
    for obj in statics:
        assert "immutable" in obj.cache_control
        assert obj.key.count(".") >= 2


def test_page_lists_at_most_the_row_limit_but_json_keeps_every_model(monkeypatch) -> None:
    import publisher.publish.render as render

    monkeypatch.setattr(render, "PAGE_ROW_LIMIT", 3)
    models = {f"m{i}": {"model_name": f"m{i}", "provider": "P", "score": float(i)} for i in range(5)}
    objects = _by_key(render.render_site(1, "2026-01-01T00:00:00Z", models))
    page = objects["index.html"].body.decode()
    assert page.count('<th scope="row"') == 3
    assert ">m4<" in page and ">m0<" not in page, "the best models are the ones listed"
    assert "3 highest-scoring of 5 models" in page
    assert json.loads(objects["llms.json"].body)["count"] == 5


def test_page_lists_every_model_below_the_limit() -> None:
    models = {f"m{i}": {"model_name": f"m{i}", "provider": "P", "score": float(i)} for i in range(30)}
    page = _by_key(render_site(1, "2026-01-01T00:00:00Z", models))["index.html"].body.decode()
    assert page.count('<th scope="row"') == 30 and "highest-scoring of" not in page
