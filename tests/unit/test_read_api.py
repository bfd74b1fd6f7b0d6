"""The read API's routes and HTTP semantics over a fake source: status, errors, ETag, 304, HEAD, caching."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from publisher.core.config import API_CACHE_CONTROL, JSON_CACHE_CONTROL
from publisher.core.documents import catalogue_document, content_digest, dumps
from publisher.core.history import merge_history
from publisher.core.identity import history_key, history_shard_key, key
from publisher.core.model import sorted_records
from publisher.read import openapi
from publisher.read.api import ReadApi
from publisher.read.catalogue import SOURCE_DYNAMODB, SOURCE_S3, Catalogue
from publisher.read.errors import Unavailable
from publisher.read.http import Request, Response

MODELS = [
    {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5},
    {"model_name": "Claude 3 Opus", "provider": "Anthropic", "context_window": 200000, "score": 96.0},
    {"model_name": "Llama 3 70B", "provider": "Meta", "context_window": 8192, "score": 89.5},
    {"model_name": "GPT-4o", "provider": "OpenAI", "context_window": 128000, "score": 95.9},
]


class FakeSource:
    def __init__(self, catalogue: Catalogue | None, objects: dict[str, bytes] | None = None) -> None:
        self.catalogue = catalogue
        self.objects = objects or {}
        self.loaded_at = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
        self.calls: list[dict[str, bool]] = []
        self.newer: Catalogue | None = None

    def wall_clock(self) -> datetime:
        return datetime(2026, 1, 1, 0, 1, tzinfo=UTC)

    def current(self, force: bool = False, prefer_fresh_s3: bool = False,
                min_version: int | None = None) -> Catalogue:
        self.calls.append({"force": force, "prefer_fresh_s3": prefer_fresh_s3})
        behind = min_version is not None and self.catalogue is not None and \
            self.catalogue.cursor_version < min_version
        if (force or behind) and self.newer is not None:
            self.catalogue = self.newer
        if self.catalogue is None:
            raise Unavailable("no_data", "nothing")
        return self.catalogue

    def object_bytes(self, object_key: str, fresh: bool = False) -> bytes | None:
        return self.objects.get(object_key)


def shards(*documents: dict[str, Any]) -> dict[str, bytes]:
    """History documents stored as the publisher stores them: one line each in its model's shard."""
    found: dict[str, bytes] = {}
    for document in documents:
        key = history_shard_key(document["model_name"])
        found[key] = found.get(key, b"") + dumps(document) + b"\n"
    return found


def s3_catalogue(version: int = 4, models: list[dict[str, Any]] = MODELS) -> Catalogue:
    body = dumps(catalogue_document(version, "2026-01-01T00:00:00Z", sorted_records(models)))
    return Catalogue.from_document(body, SOURCE_S3, '"abc"')


def api(source: FakeSource | None = None) -> ReadApi:
    return ReadApi(source or FakeSource(s3_catalogue()), openapi.document_bytes)  # type: ignore[arg-type]


def get(
    target: str, method: str = "GET", headers: dict[str, str] | None = None, source: FakeSource | None = None
) -> Response:
    path, _, query = target.partition("?")
    return api(source).handle(Request(method, path, query, headers or {}))


def body(response: Response) -> Any:
    return json.loads(response.body)


def assert_error(response: Response, status: int, code: str, parameter: str | None) -> None:
    assert response.status == status, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    error = body(response)["error"]
    assert (error["code"], error["parameter"]) == (code, parameter)
    assert error["message"]


def test_list_answers_items_count_total_next() -> None:
    response = get("/api/llms?provider=openai&limit=1")
    assert response.status == 200
    page = body(response)
    assert [m["model_name"] for m in page["items"]] == ["GPT-4o"]
    assert (page["count"], page["total"], page["version"]) == (1, 2, 4)
    follow = body(get(f"/api/llms?provider=openai&limit=1&cursor={page['next']}"))
    assert [m["model_name"] for m in follow["items"]] == ["GPT-4"] and follow["next"] is None


def test_success_carries_etag_cache_control_cors_and_source() -> None:
    response = get("/api/llms")
    headers = response.headers
    assert re.fullmatch('"[0-9a-f]{64}"', headers["ETag"])
    assert headers["Cache-Control"] == API_CACHE_CONTROL
    assert (
        "stale-while-revalidate" in headers["Cache-Control"] and "stale-if-error" in headers["Cache-Control"]
    )
    # The CDN keeps it as long as the snapshot; a browser revalidates every time.
    assert "max-age=0," in headers["Cache-Control"] and "s-maxage=10" in headers["Cache-Control"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Snapshot-Source"] == "memory" and headers["X-Snapshot-Version"] == "4"


@pytest.mark.parametrize(
    "target", ["/api/llms", "/api/llms/GPT-4", "/api/providers", "/api/openapi.json", "/llms.json", "/llms"]
)
def test_if_none_match_gives_304_without_body(target: str) -> None:
    etag = get(target).headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = get(target, headers={"if-none-match": header})
        assert response.status == 304 and response.body == b""
        assert response.headers["ETag"] == etag
    assert get(target, headers={"if-none-match": '"other"'}).status == 200


def test_failover_answers_carry_the_etag_s3_gave_the_same_bytes_others_their_content_hash() -> None:
    # Under SSE-KMS, S3's ETag is no hash of the bytes: a failover answer can only match the copy
    # the CDN had from S3 by carrying the ETag S3 gave it.
    source = FakeSource(s3_catalogue())
    assert get("/llms.json", source=source).headers["ETag"] == '"abc"'
    array = get("/llms", source=source)
    assert array.headers["ETag"] == f'"{content_digest(array.body)}"'
    source = FakeSource(s3_catalogue())
    assert source.catalogue is not None
    source.catalogue.array_object = ('"s3-llms"', content_digest(array.body))
    assert get("/llms", source=source).headers["ETag"] == '"s3-llms"'
    assert get("/llms", source=source, headers={"if-none-match": '"s3-llms"'}).status == 304
    source = FakeSource(s3_catalogue())
    assert source.catalogue is not None
    source.catalogue.array_object = ('"s3-llms"', content_digest(b"other bytes"))
    assert get("/llms", source=source).headers["ETag"] == f'"{content_digest(array.body)}"'


def test_head_answers_headers_only() -> None:
    response = get("/api/llms", method="HEAD")
    assert response.status == 200 and response.body == b"" and response.headers["ETag"]


@pytest.mark.parametrize("path", ["/api/llms", "/api/llms/GPT-4", "/api/providers", "/api/llms/Nope",
                                  "/api/llms?limit=0"])
def test_head_carries_the_content_length_of_the_get(path: str) -> None:
    """RFC 9110 9.3.2: HEAD sends the header fields GET would, Content-Length included."""
    full, head = get(path), get(path, method="HEAD")
    assert head.status == full.status and head.body == b""
    assert head.headers["Content-Length"] == str(len(full.body)) != "0"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE"])
def test_other_methods_are_405_with_allow(method: str) -> None:
    response = get("/api/llms", method=method)
    assert_error(response, 405, "method_not_allowed", None)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    "path",
    [
        "/api/nope",
        "/api/llms/GPT-4/other",
        "/api",
        "/api/",
        "/api/llms/",
        "/other",
        "/api/llms//history",
        "/api/providers/x",
    ],
)
def test_unknown_routes_are_404_json(path: str) -> None:
    assert_error(get(path), 404, "route_not_found", None)


def test_model_lookup_decodes_the_path() -> None:
    response = get("/api/llms/Claude%203%20Opus")
    assert response.status == 200 and body(response)["model_name"] == "Claude 3 Opus"
    assert body(get("/api/llms/gpt-4"))["model_name"] == "GPT-4"


def test_unknown_model_is_404_naming_model_name_never_cached_and_looked_up_again() -> None:
    source = FakeSource(s3_catalogue())
    response = get("/api/llms/Nope", source=source)
    assert_error(response, 404, "model_not_found", "model_name")
    # A 404 for a name must not outlive the model's publication: no cache, and a fresh look first.
    assert response.headers["Cache-Control"] == "no-store"
    assert source.calls[-1]["force"] is True


@pytest.mark.parametrize(
    "raw", ["..", "%2E%2E", "..%2Fetc", "a%2Fb", "a%5Cb", "%00", "a%0Ab", ".", "%FF", "x" * 257]
)
def test_model_names_that_could_escape_are_400(raw: str) -> None:
    assert_error(
        get(f"/api/llms/{raw}"),
        400,
        "invalid_model_name" if raw not in ("%00", "a%0Ab") else "control_characters",
        "model_name",
    )


@pytest.mark.parametrize("char", ["%E2%80%AE", "%E2%81%A6", "%E2%80%8B", "%EF%BB%BF", "%C2%85"])
def test_names_ingest_refuses_are_400_in_a_path_under_the_same_rule(char: str) -> None:
    """One rule (publisher/core/text.py): a name ingest would refuse is a 400 naming the parameter."""
    from urllib.parse import unquote

    from publisher.core.model import InvalidItem, to_record

    with pytest.raises(InvalidItem):
        to_record({"model_name": unquote(f"GPT{char}4"), "provider": "P", "score": 1})
    for path, parameter in ((f"/api/llms/GPT{char}4", "model_name"), (f"/providers/Open{char}AI.json", "provider"),
                            (f"/api/llms?q=a{char}", "q")):
        response = get(path)
        assert response.status == 400, path
        assert json.loads(response.body)["error"]["parameter"] == parameter, path


@pytest.mark.parametrize("instant", ["0001-01-01T00:00%2B23:59", "9999-12-31T23:59:59-23:59"])
def test_as_of_instants_past_the_calendar_are_400s_naming_as_of(instant: str) -> None:
    assert_error(get(f"/api/llms?as_of={instant}"), 400, "invalid_as_of", "as_of")


def test_bad_filters_are_400_naming_the_parameter_without_touching_the_source() -> None:
    source = FakeSource(None)
    assert_error(get("/api/llms?min_score=abc", source=source), 400, "invalid_number", "min_score")
    assert_error(get("/api/llms?sort=price", source=source), 400, "invalid_sort", "sort")
    assert_error(get("/api/llms?limit=0", source=source), 400, "out_of_range", "limit")
    assert source.calls == []


def test_client_errors_are_cached_briefly_and_server_errors_not_at_all() -> None:
    assert get("/api/llms?limit=0").headers["Cache-Control"] == "public, max-age=5, s-maxage=5"
    assert get("/api/llms", source=FakeSource(None)).headers["Cache-Control"] == "no-store"


def test_no_data_is_503() -> None:
    source = FakeSource(None)
    assert_error(get("/api/health", source=source), 503, "no_data", None)
    assert_error(get("/api/llms", source=source), 503, "no_data", None)
    assert_error(get("/llms.json", source=source), 503, "no_data", None)


def test_health_reports_version_age_source_and_is_not_cached() -> None:
    response = get("/api/health")
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert body(response) == {
        "status": "ok",
        "source": "s3",
        "version": 4,
        "generated_at": "2026-01-01T00:00:00Z",
        "age_seconds": 60.0,
        "count": 4,
    }


def test_health_age_from_dynamodb_is_since_the_scan() -> None:
    scanned = Catalogue.from_records(4, "2026-01-01T00:00:00Z", MODELS, SOURCE_DYNAMODB)
    response = get("/api/health", source=FakeSource(scanned))
    assert body(response)["age_seconds"] == 50.0 and response.headers["X-Snapshot-Source"] == "dynamodb"


def test_providers_lists_name_slug_count_best_score() -> None:
    document = body(get("/api/providers"))
    assert document["items"][0] == {"name": "Anthropic", "slug": key("Anthropic"), "count": 1, "best_score": 96.0}
    assert document["count"] == 3 and document["version"] == 4


def test_history_serves_the_models_line_of_its_shard() -> None:
    history = merge_history("GPT-4", None, [], 5)
    response = get("/api/llms/gpt-4/history", source=FakeSource(s3_catalogue(), shards(history)))
    assert response.status == 200 and response.body == dumps(history)
    assert response.headers["Link"] == f'</{history_key("GPT-4")}>; rel="canonical"'
    assert_error(get("/api/llms/GPT-4o/history"), 404, "history_not_found", "model_name")
    assert_error(get("/api/llms/Nope/history"), 404, "model_not_found", "model_name")


def test_fallback_routes_serve_the_publishers_bytes_and_revalidate() -> None:
    source = FakeSource(s3_catalogue())
    document = get("/llms.json", source=source)
    assert document.body == source.catalogue.document_bytes()  # type: ignore[union-attr]
    array = get("/llms", source=source)
    assert json.loads(array.body) == json.loads(document.body)["models"]
    assert source.calls == [{"force": False, "prefer_fresh_s3": True}] * 2
    assert document.headers["Cache-Control"] == array.headers["Cache-Control"] == JSON_CACHE_CONTROL


def test_a_cursor_from_a_newer_snapshot_revalidates_once() -> None:
    newer = s3_catalogue(version=5)
    cursor = body(get("/api/llms?limit=1", source=FakeSource(newer)))["next"]
    source = FakeSource(s3_catalogue(version=4))
    source.newer = newer
    assert get(f"/api/llms?limit=1&cursor={cursor}", source=source).status == 200
    stuck = FakeSource(s3_catalogue(version=4))
    assert_error(get(f"/api/llms?limit=1&cursor={cursor}", source=stuck), 400, "cursor_expired", "cursor")


def test_parameterless_routes_refuse_parameters() -> None:
    assert_error(get("/api/health?x=1"), 400, "unknown_parameter", "x")
    assert_error(get("/api/llms/GPT-4?verbose=true"), 400, "unknown_parameter", "verbose")


def test_openapi_is_3_1_with_the_edge_paths_and_bounds() -> None:
    document = body(get("/api/openapi.json"))
    assert document["openapi"] == "3.1.0"
    assert {
        "/api/llms",
        "/api/llms/{model_name}",
        "/api/llms/{model_name}/history",
        "/api/providers",
        "/api/health",
        "/api/openapi.json",
        "/llms.json",
        "/llms",
    } <= set(document["paths"])
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/api/llms"]["get"]["parameters"]}
    assert parameters["limit"]["minimum"] == 1 and parameters["limit"]["maximum"] == 500
    assert parameters["min_score"] == {"type": "number", "minimum": 0, "maximum": 100}
    for path in document["paths"].values():
        responses = path["get"]["responses"]
        assert "200" in responses and "500" in responses
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }
