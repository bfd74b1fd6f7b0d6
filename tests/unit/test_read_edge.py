"""The local edge's pure parts: the HTTP API v2 event adapter, content negotiation and revalidation rules."""

from __future__ import annotations

import base64
import gzip

import brotli
import pytest

from publisher.handlers.read import request_from_event
from publisher.local.edge import (
    choose_encoding,
    compress,
    compressible,
    decode_result,
    etag_matches,
    http_api_event,
    object_key,
    route_of,
)


def test_event_is_payload_2_0_with_repeated_values_comma_joined() -> None:
    event = http_api_event(
        "GET",
        "/api/llms",
        "provider=OpenAI&provider=Meta&min_score=90",
        {"accept": "application/json", "user-agent": "ua"},
        "10.0.0.1",
        "localhost",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /api/llms" == event["requestContext"]["routeKey"]
    assert event["rawPath"] == "/api/llms"
    assert event["rawQueryString"] == "provider=OpenAI&provider=Meta&min_score=90"
    assert event["queryStringParameters"] == {"provider": "OpenAI,Meta", "min_score": "90"}
    assert event["requestContext"]["http"] == {
        "method": "GET",
        "path": "/api/llms",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.0.0.1",
        "userAgent": "ua",
    }
    assert event["isBase64Encoded"] is False
    assert "pathParameters" not in event


def test_the_handler_reads_repeated_providers_from_the_raw_query_string() -> None:
    event = http_api_event("GET", "/api/llms", "provider=Acme%2C%20Inc&provider=Meta", {}, "1.1.1.1", "h")
    assert event["queryStringParameters"]["provider"] == "Acme, Inc,Meta"
    assert request_from_event(event).raw_query == "provider=Acme%2C%20Inc&provider=Meta"


def test_path_parameters_are_decoded_like_api_gateway() -> None:
    event = http_api_event("HEAD", "/api/llms/Claude%203%20Opus/history", "", {}, "1.1.1.1", "h")
    assert event["routeKey"] == "HEAD /api/llms/{model_name}/history"
    assert event["pathParameters"] == {"model_name": "Claude 3 Opus"}
    assert event["requestContext"]["http"]["path"] == "/api/llms/Claude 3 Opus/history"


def test_unrouted_paths_get_the_default_route() -> None:
    assert route_of("/api/nope") == ("$default", None)
    assert route_of("/api/llms/") == ("$default", None)


def test_no_query_means_no_query_string_parameters() -> None:
    assert "queryStringParameters" not in http_api_event("GET", "/api/health", "", {}, "1.1.1.1", "h")


def test_decode_result_handles_base64_and_bare_values() -> None:
    encoded = {
        "statusCode": 200,
        "headers": {"a": "b"},
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\x00\x01").decode(),
    }
    assert decode_result(encoded) == (200, {"a": "b"}, b"\x00\x01")
    assert decode_result({"x": 1})[0] == 200


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("gzip, deflate, br", "br"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("*", "br"),
        ("br;q=0.5, gzip;q=1", "br"),
        ("GZIP", "gzip"),
        ("gzip;q=abc", None),
    ],
)
def test_encoding_negotiation(header: str | None, expected: str | None) -> None:
    assert choose_encoding(header) == expected


def test_compression_round_trips() -> None:
    body = b'{"models":[' + b'{"a":1},' * 500 + b"]}"
    assert gzip.decompress(compress(body, "gzip")) == body
    assert brotli.decompress(compress(body, "br")) == body


@pytest.mark.parametrize(
    "content_type, size, expected",
    [
        ("application/json; charset=utf-8", 5000, True),
        ("text/html", 5000, True),
        ("text/css", 5000, True),
        ("text/javascript", 5000, True),
        ("image/svg+xml", 5000, True),
        ("image/png", 5000, False),
        ("application/json", 999, False),
        ("application/json", 10_000_001, False),
    ],
)
def test_what_gets_compressed(content_type: str, size: int, expected: bool) -> None:
    assert compressible(content_type, size) is expected


def test_if_none_match_uses_weak_comparison() -> None:
    assert etag_matches('W/"a"', '"a"') and etag_matches('"b", "a"', '"a"') and etag_matches("*", '"a"')
    assert not etag_matches('"b"', '"a"') and not etag_matches(None, '"a"')


@pytest.mark.parametrize(
    "path, key",
    [
        ("/", "index.html"),
        ("/llms.json", "llms.json"),
        ("/internal/state.json", None),
        ("/a/../b", None),
        ("/a//b", None),
    ],
)
def test_object_keys(path: str, key: str | None) -> None:
    assert object_key(path) == key
