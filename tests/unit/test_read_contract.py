"""The read API's consumer contract: every method on every route, CORS, identity lookups, min_version, fallback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from publisher.core import edge_contract
from publisher.core.documents import dumps, provider_document, provider_summaries
from publisher.core.history import merge_history
from publisher.core.identity import history_key, history_shard_key, key, provider_key
from publisher.read.api import ROUTES
from publisher.read.catalogue import SOURCE_DYNAMODB, Catalogue
from tests.unit.test_read_api import FakeSource, body, get, s3_catalogue, shards

TWINS = [
    {"model_name": "Twin A", "provider": "TwinCo", "score": 91.0},
    {"model_name": "twin-a", "provider": "twinco", "score": 92.0},
    {"model_name": "TWIN_A", "provider": "Twin Co", "score": 93.0},
    {"model_name": "GPT-4", "provider": "OpenAI", "score": 95.5},
]
# A concrete path for every route template.
PATHS = {
    "/api/llms": "/api/llms",
    "/api/llms/{model_name}": "/api/llms/GPT-4",
    "/api/llms/{model_name}/history": "/api/llms/GPT-4/history",
    "/api/changes": "/api/changes?since=4",
    "/api/providers": "/api/providers",
    "/api/health": "/api/health",
    "/api/openapi.json": "/api/openapi.json",
    "/llms.json": "/llms.json",
    "/llms": "/llms",
    "/history/{file}": "/history/gpt-4.json",
    "/providers/{file}": "/providers/openai.json",
}
GPT4_HISTORY = dumps(merge_history("GPT-4", None, [], 5))


def twins(version: int = 4) -> FakeSource:
    return FakeSource(s3_catalogue(version, TWINS), shards(json.loads(GPT4_HISTORY)))


def test_every_route_has_a_concrete_example_here() -> None:
    assert set(PATHS) == set(ROUTES)


@pytest.mark.parametrize("path", PATHS.values())
def test_preflight_on_every_route_is_204_with_the_contracts_cors_headers_and_touches_no_data(path: str) -> None:
    source = FakeSource(None)
    response = get(path, method="OPTIONS", source=source)
    assert (response.status, response.body) == (204, b"")
    for name, value in edge_contract.preflight_headers().items():
        assert response.headers[name] == value
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert set(response.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]
    assert source.calls == []


@pytest.mark.parametrize("path", PATHS.values())
def test_head_on_every_route_answers_what_get_does_without_a_body(path: str) -> None:
    got, head = get(path, source=twins()), get(path, method="HEAD", source=twins())
    assert got.status == 200, (path, got.body)
    assert (head.status, head.body) == (200, b"")
    # GET's header fields, and the length its body would have had (the adapter sets GET's own).
    assert head.headers == {**got.headers, "Content-Length": str(len(got.body))}


@pytest.mark.parametrize("path", [*PATHS.values(), "/api/llms/Nope", "/api/llms?limit=0", "/api/nope"])
def test_every_answer_errors_included_is_readable_cross_origin(path: str) -> None:
    headers = get(path, source=twins()).headers
    assert headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "X-Snapshot-Version", "X-Snapshot-Source"} <= exposed


def test_options_on_an_unknown_route_is_still_a_404() -> None:
    assert get("/api/nope", method="OPTIONS").status == 404


@pytest.mark.parametrize("name", ["Twin A", "twin-a", "TWIN_A"])
def test_names_that_slug_alike_each_find_their_own_model_by_exact_name_and_by_key(name: str) -> None:
    from urllib.parse import quote

    for segment in (quote(name, safe=""), key(name)):
        response = get(f"/api/llms/{segment}", source=twins())
        assert response.status == 200 and body(response)["model_name"] == name


def test_a_loose_lookup_resolves_only_when_one_model_matches() -> None:
    assert body(get("/api/llms/twin%20a", source=twins()))["model_name"] == "Twin A"  # case: one match
    assert body(get("/api/llms/gpt-4", source=twins()))["model_name"] == "GPT-4"


@pytest.mark.parametrize(("loose", "exact", "canonical"), [
    ("/api/llms/twin-a", "/api/llms/Twin%20A", "/api/llms/Twin%20A"),
    ("/api/llms/TWIN%20A/history", "/api/llms/Twin%20A/history", f"/{history_key('Twin A')}"),
    ("/history/twin-a.json", f"/{history_key('Twin A')}", f"/{history_key('Twin A')}"),
    ("/providers/twinco.json", f"/{provider_key('TwinCo')}", f"/{provider_key('TwinCo')}"),
])
def test_a_loose_match_is_never_cached_so_a_name_published_later_answers_for_itself(
        loose: str, exact: str, canonical: str) -> None:
    # Only `Twin A` exists: `twin-a` (its slug) and `TWIN A` (another case) mean it, for now. Once a
    # model named `twin-a` is published, /api/llms/twin-a is that model's: a CDN must not still hold
    # Twin A's answer under that URL, as it would for s-maxage + stale-while-revalidate.
    alone = [m for m in TWINS if m["model_name"] in ("Twin A", "GPT-4")]
    before = FakeSource(s3_catalogue(4, alone), shards(merge_history("Twin A", None, [], 5)))
    by_exact, by_loose = get(exact, source=before), get(loose, source=before)
    assert by_loose.status == by_exact.status == 200 and by_loose.body == by_exact.body
    assert by_loose.headers["Cache-Control"] == "no-store"
    assert by_exact.headers["Cache-Control"].startswith("public") and "s-maxage" in by_exact.headers["Cache-Control"]
    assert by_loose.headers["Link"] == by_exact.headers["Link"] == f'<{canonical}>; rel="canonical"'
    after = FakeSource(s3_catalogue(5, TWINS), shards(merge_history("twin-a", None, [], 6)))
    assert body(get("/api/llms/twin-a", source=after))["model_name"] == "twin-a"
    assert body(get("/history/twin-a.json", source=after))["model_name"] == "twin-a"
    assert body(get("/providers/twinco.json", source=after))["provider"] == "twinco"


def test_an_ambiguous_loose_lookup_is_a_300_listing_each_candidate_and_never_cached() -> None:
    response = get("/api/llms/twin.a", source=twins())
    assert response.status == 300 and response.headers["Cache-Control"] == "no-store"
    document = body(response)
    assert document["error"]["code"] == "ambiguous_name" and document["error"]["parameter"] == "model_name"
    assert {c["name"] for c in document["candidates"]} == {"Twin A", "twin-a", "TWIN_A"}
    for candidate in document["candidates"]:
        assert body(get(candidate["url"], source=twins()))["model_name"] == candidate["name"]


def test_an_old_slug_url_of_a_history_serves_the_one_model_it_means_with_its_canonical_link() -> None:
    response = get("/history/gpt-4.json", source=twins())
    assert response.status == 200 and response.body == GPT4_HISTORY
    assert response.headers["Link"] == f'</{history_key("GPT-4")}>; rel="canonical"'
    ambiguous = get("/history/twin-a-.json", source=twins())
    assert ambiguous.status == 300
    assert get("/history/twin.a.json", source=twins()).status == 300


def test_another_models_history_is_never_served_as_a_models_own() -> None:
    # Twin A's history, even where twin-a's would be, is not twin-a's.
    shared = dumps(merge_history("Twin A", None, [], 5)) + b"\n"
    source = FakeSource(s3_catalogue(4, TWINS), {history_shard_key("twin-a"): shared})
    response = get("/api/llms/twin-a/history", source=source)
    assert response.status == 404 and body(response)["error"]["code"] == "history_not_found"


def test_a_name_spelled_like_another_models_key_never_takes_that_models_file_urls() -> None:
    # `twin-a--c662e6a1` is Twin A's key, and a valid model name too (with a key of its own). The
    # key-named URLs the site links to (/history/<key>.json, /providers/<key>.json) stay Twin A's
    # (and TwinCo's); the API's name URL is the exact name's, as it always is.
    impostor, maker = key("Twin A"), key("TwinCo")
    models = [TWINS[0], {"model_name": impostor, "provider": maker, "score": 10.0}]
    source = FakeSource(s3_catalogue(4, models), shards(merge_history("Twin A", None, [], 5),
                                                        merge_history(impostor, None, [], 6)))
    assert key(impostor) != impostor and key(maker) != maker
    history = get(f"/{history_key('Twin A')}", source=source)
    assert history.status == 200 and body(history)["model_name"] == "Twin A"
    assert body(get(f"/{history_key(impostor)}", source=source))["model_name"] == impostor
    assert body(get(f"/{provider_key('TwinCo')}", source=source))["provider"] == "TwinCo"
    assert body(get(f"/{provider_key(maker)}", source=source))["provider"] == maker
    assert body(get(f"/api/llms/{impostor}", source=source))["model_name"] == impostor
    assert body(get("/api/llms/Twin%20A", source=source))["model_name"] == "Twin A"


def test_an_old_provider_url_serves_the_provider_document_the_publisher_renders() -> None:
    catalogue = s3_catalogue(4, TWINS)
    summary = next(p for p in provider_summaries(catalogue.models) if p["name"] == "OpenAI")
    expected = dumps(provider_document(4, catalogue.generated_at, summary,
                                       [m for m in catalogue.models if m["provider"] == "OpenAI"]))
    for path in ("/providers/openai.json", f"/{provider_key('OpenAI')}", "/providers/OpenAI.json"):
        response = get(path, source=twins())
        assert response.status == 200 and response.body == expected
        assert response.headers["Link"] == f'</{provider_key("OpenAI")}>; rel="canonical"'
    # `twinco` is exactly one provider's name; `TWINCO` could be two.
    assert body(get("/providers/twinco.json", source=twins()))["provider"] == "twinco"
    assert get("/providers/TWINCO.json", source=twins()).status == 300
    assert get("/providers/nobody.json", source=twins()).status == 404


def test_min_version_answers_from_that_version_or_newer_after_a_revalidation() -> None:
    source = FakeSource(s3_catalogue(4))
    source.newer = s3_catalogue(5)
    response = get("/api/llms?min_version=5", source=source)
    assert response.status == 200 and response.headers["X-Snapshot-Version"] == "5"
    assert body(get("/api/llms/GPT-4?min_version=3", source=source))["model_name"] == "GPT-4"


def test_min_version_not_reached_is_a_409_to_retry_never_an_older_answer() -> None:
    response = get("/api/llms/GPT-4?min_version=9", source=FakeSource(s3_catalogue(4)))
    assert response.status == 409 and response.headers["Retry-After"] == "1"
    assert response.headers["Cache-Control"] == "no-store"
    assert body(response)["error"]["parameter"] == "min_version"


def test_a_fallback_that_found_no_version_sends_no_version_header_and_says_it_is_a_fallback() -> None:
    fallback = {"source": SOURCE_DYNAMODB, "reason": "snapshot_unreadable", "scanned_at": "2026-01-01T00:00:30Z"}
    scanned = Catalogue.from_records(None, "2026-01-01T00:00:00Z", TWINS, SOURCE_DYNAMODB, fallback)
    response = get("/llms.json", source=FakeSource(scanned))
    assert "X-Snapshot-Version" not in response.headers
    document: dict[str, Any] = body(response)
    assert document["version"] is None and document["fallback"] == fallback
    assert body(get("/api/health", source=FakeSource(scanned)))["fallback"] == fallback
    assert body(get("/api/llms", source=FakeSource(scanned)))["version"] is None


def test_the_openapi_document_describes_every_route_with_every_method() -> None:
    from publisher.read import openapi

    paths = openapi.document()["paths"]
    assert set(paths) == set(ROUTES)
    for item in paths.values():
        assert {"get", "head", "options"} <= set(item)
