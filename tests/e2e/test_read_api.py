"""The read path over HTTP at the local edge: filters, lookups, errors, 304, compression and failover."""

from __future__ import annotations

import contextlib
import gzip
import json
from typing import Any

import brotli
import pytest

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


def wait_for_published_snapshot(stack: RunningStack) -> None:
    """The edge answers /llms.json from DynamoDB before the first publish lands; wait for the S3 copy."""

    def published() -> bool:
        status, headers, _ = stack.get("/llms.json")
        health = stack.get_json("/api/health")
        return status == 200 and headers.get("X-Snapshot-Source") == "s3" and health["source"] == "s3"

    stack.wait_for(published, timeout=30)


@pytest.fixture(autouse=True, scope="module")
def _published(local_stack: RunningStack) -> None:
    wait_for_published_snapshot(local_stack)


def test_provider_filter_returns_only_that_provider(local_stack: RunningStack) -> None:
    page = local_stack.get_json("/api/llms?provider=OpenAI")
    assert page["items"] and {m["provider"] for m in page["items"]} == {"OpenAI"}
    assert page["count"] == len(page["items"]) <= page["total"]


def test_repeated_providers_and_numeric_filters(local_stack: RunningStack) -> None:
    page = local_stack.get_json("/api/llms?provider=openai&provider=ANTHROPIC&min_score=90&sort=model_name")
    names = [m["model_name"] for m in page["items"]]
    assert names == sorted(names)
    assert {m["provider"] for m in page["items"]} <= {"OpenAI", "Anthropic"}
    assert all(m["score"] >= 90 for m in page["items"])


def test_cursor_walks_every_page(local_stack: RunningStack) -> None:
    everything = local_stack.get_json("/api/llms?limit=500")
    seen: list[str] = []
    target = "/api/llms?limit=7"
    while True:
        page = local_stack.get_json(target)
        seen += [m["model_name"] for m in page["items"]]
        if page["next"] is None:
            break
        target = f"/api/llms?limit=7&cursor={page['next']}"
    assert seen == [m["model_name"] for m in everything["items"]]


def test_single_model_and_unknown_model(local_stack: RunningStack) -> None:
    assert local_stack.get_json("/api/llms/GPT-4")["provider"] == "OpenAI"
    assert local_stack.get_json("/api/llms/Claude%203%20Opus")["model_name"] == "Claude 3 Opus"
    status, headers, body = local_stack.get("/api/llms/No%20Such%20Model")
    assert status == 404 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == "model_not_found"


def test_bad_input_is_a_json_400_naming_the_parameter(local_stack: RunningStack) -> None:
    for target, parameter in [
        ("/api/llms?min_score=abc", "min_score"),
        ("/api/llms?sort=price", "sort"),
        ("/api/llms?limit=501", "limit"),
        ("/api/llms?cursor=bogus", "cursor"),
        ("/api/llms/..%2F..%2Fetc", "model_name"),
        ("/api/llms/a%0Ab", "model_name"),
        ("/api/llms/GPT%E2%80%AE-4", "model_name"),
        ("/api/llms?as_of=0001-01-01T00:00%2B23:59", "as_of"),
        ("/api/llms?as_of=9999-12-31T23:59:59-23:59", "as_of"),
    ]:
        status, _, body = local_stack.get(target)
        assert status == 400, target
        assert json.loads(body)["error"]["parameter"] == parameter


def test_unknown_api_route_is_404_json(local_stack: RunningStack) -> None:
    status, _, body = local_stack.get("/api/nothing-here")
    assert status == 404 and json.loads(body)["error"]["code"] == "route_not_found"


@pytest.mark.parametrize(
    "path", ["/llms.json", "/api/llms?provider=Meta", "/api/llms/GPT-4", "/api/providers"]
)
def test_if_none_match_is_a_304(local_stack: RunningStack, path: str) -> None:
    status, headers, _ = local_stack.get(path)
    assert status == 200 and headers["ETag"]
    status, again, body = local_stack.get(path, {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b"" and again["ETag"] == headers["ETag"]


@pytest.mark.parametrize("path", ["/llms.json", "/api/llms?limit=500", "/api/openapi.json"])
def test_gzip_and_brotli_when_the_client_asks(local_stack: RunningStack, path: str) -> None:
    _, _, plain = local_stack.get(path)
    for coding, decompress in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        status, headers, body = local_stack.get(path, {"Accept-Encoding": coding})
        assert status == 200 and headers["Content-Encoding"] == coding
        assert "Accept-Encoding" in headers["Vary"]
        assert decompress(body) == plain
    _, headers, _ = local_stack.get(path, {"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in headers


def test_api_answers_carry_cors_and_cache_headers(local_stack: RunningStack) -> None:
    _, headers, _ = local_stack.get("/api/llms")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=" in headers["Cache-Control"] and "stale-while-revalidate=" in headers["Cache-Control"]
    assert headers["X-Snapshot-Source"] in ("memory", "dynamodb")


def test_health_reports_the_snapshot(local_stack: RunningStack) -> None:
    health = local_stack.get_json("/api/health")
    assert health["status"] == "ok" and health["version"] >= 1 and health["count"] > 0


def test_head_has_no_body_and_the_content_length_of_the_get(local_stack: RunningStack) -> None:
    import urllib.error
    import urllib.request

    for path in ("/llms.json", "/api/llms", "/api/llms/GPT-4", "/api/llms/No%20Such%20Model"):
        _, _, full = local_stack.get(path)
        request = urllib.request.Request(local_stack.edge + path, method="HEAD")
        try:
            response = urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback
        except urllib.error.HTTPError as error:
            response = error
        with response:
            assert response.read() == b"" and response.headers["Content-Length"] == str(len(full)), path
            assert response.status == 404 or response.headers["ETag"], path


def test_deleting_the_snapshot_fails_over_to_the_read_api(local_stack: RunningStack) -> None:
    s3 = local_stack.client("s3")
    saved: dict[str, Any] = {}
    for key in ("llms.json", "llms"):
        obj = s3.get_object(Bucket=local_stack.bucket, Key=key)
        saved[key] = {
            "Body": obj["Body"].read(),
            "ContentType": obj["ContentType"],
            "CacheControl": obj["CacheControl"],
            "Metadata": obj["Metadata"],
        }
    expected = json.loads(saved["llms.json"]["Body"])["count"]
    try:
        for key in saved:
            s3.delete_object(Bucket=local_stack.bucket, Key=key)

        def failed_over() -> bool:
            status, headers, body = local_stack.get("/llms.json")
            return (
                status == 200
                and headers.get("X-Snapshot-Source") == "dynamodb"
                and json.loads(body)["count"] >= expected
            )

        local_stack.wait_for(failed_over, timeout=15)
        status, headers, body = local_stack.get("/llms")
        assert (
            status == 200 and headers["X-Snapshot-Source"] == "dynamodb" and len(json.loads(body)) >= expected
        )
    finally:
        # Leave the shared stack as we found it, unless a publish has already written newer objects.
        for key, obj in saved.items():
            with contextlib.suppress(s3.exceptions.ClientError):
                s3.put_object(Bucket=local_stack.bucket, Key=key, IfNoneMatch="*", **obj)
    local_stack.wait_for(
        lambda: local_stack.get("/llms.json")[1].get("X-Snapshot-Source") == "s3", timeout=15
    )
