"""The local edge's pure parts: the function URL event adapter, content negotiation and revalidation rules."""

from __future__ import annotations

import base64
import gzip

import brotli
import pytest

from publisher.core.answers import etag_matches
from publisher.local.edge import object_key
from publisher.local.edge_compression import choose_encoding, compress, compressible, origin_accept_encoding
from publisher.local.lambda_shapes import CLOUDFRONT_USER_AGENT, FUNCTION_URL_HOST, decode_result, function_url_event
from publisher.read.handler import request_from_event
from tests.conftest import load_event


def test_event_has_the_function_url_shape_with_repeated_values_comma_joined() -> None:
    event = function_url_event("GET", "/api/llms", "provider=OpenAI&provider=Meta&min_score=90", "10.0.0.1")
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default" == event["requestContext"]["routeKey"]
    assert event["rawPath"] == "/api/llms"
    assert event["rawQueryString"] == "provider=OpenAI&provider=Meta&min_score=90"
    assert event["queryStringParameters"] == {"provider": "OpenAI,Meta", "min_score": "90"}
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["userAgent"]) == ("GET", "/api/llms", CLOUDFRONT_USER_AGENT)
    assert event["requestContext"]["domainName"] == FUNCTION_URL_HOST == event["headers"]["host"]
    assert "iam" in event["requestContext"]["authorizer"]
    assert event["isBase64Encoded"] is False
    assert "pathParameters" not in event


def test_event_has_the_keys_of_the_committed_sample_events() -> None:
    """The adapter and tests/events/url_*.json describe the same event shape."""
    local = function_url_event("GET", "/api/llms", "provider=OpenAI", "1.1.1.1", "br")
    sample = load_event("url_list_models")
    assert set(local) == set(sample)
    assert set(local["requestContext"]) == set(sample["requestContext"])
    assert set(local["requestContext"]["http"]) == set(sample["requestContext"]["http"])
    assert set(local["headers"]) == set(sample["headers"])


def test_no_viewer_header_or_cookie_reaches_the_function() -> None:
    event = function_url_event("GET", "/api/llms", "", "198.51.100.7", "gzip, deflate, br")
    assert event["headers"]["host"] == FUNCTION_URL_HOST
    assert event["headers"]["user-agent"] == CLOUDFRONT_USER_AGENT
    assert event["headers"]["x-forwarded-for"] == "198.51.100.7"
    assert event["headers"]["accept-encoding"] == "br,gzip"
    assert not {"cookie", "authorization", "if-none-match", "origin", "referer"} & set(event["headers"])
    assert "cookies" not in event


@pytest.mark.parametrize(("viewer", "origin"), [
    ("gzip, deflate, br", "br,gzip"), ("gzip", "gzip"), ("identity", None), (None, None), ("br;q=0, gzip", "gzip"),
])
def test_accept_encoding_is_normalised_as_cloudfront_does(viewer: str | None, origin: str | None) -> None:
    assert origin_accept_encoding(viewer) == origin


def test_the_handler_reads_repeated_providers_from_the_raw_query_string() -> None:
    event = function_url_event("GET", "/api/llms", "provider=Acme%2C%20Inc&provider=Meta", "1.1.1.1")
    assert event["queryStringParameters"]["provider"] == "Acme, Inc,Meta"
    assert request_from_event(event).raw_query == "provider=Acme%2C%20Inc&provider=Meta"


def test_the_path_stays_encoded_in_raw_path_and_decoded_in_http_path() -> None:
    event = function_url_event("HEAD", "/api/llms/Claude%203%20Opus/history", "", "1.1.1.1")
    assert event["rawPath"] == "/api/llms/Claude%203%20Opus/history"
    assert event["requestContext"]["http"]["path"] == "/api/llms/Claude 3 Opus/history"
    assert request_from_event(event).path == "/api/llms/Claude%203%20Opus/history"


def test_no_query_means_no_query_string_parameters() -> None:
    assert "queryStringParameters" not in function_url_event("GET", "/api/health", "", "1.1.1.1")


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
