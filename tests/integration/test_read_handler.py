"""The read Lambda against moto: snapshot in S3, snapshot missing, S3 failing, and both origins down."""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from publisher.core import aws
from publisher.core.model import sorted_records
from publisher.ops.seed import sample_models, seed
from publisher.read import handler as read
from tests.conftest import REPO, TEST_BUCKET, load_event


@pytest.fixture
def handler(mocked_aws: None) -> Iterator[Any]:
    read.reset()
    yield read.handler
    read.reset()


@pytest.fixture
def seeded(table: str, bucket: str) -> list[dict[str, Any]]:
    models = sample_models()
    seed(aws.client("dynamodb"), "llm_scores", models)
    return models


def rebuild(lambda_context: Any, version: int = 1) -> None:
    """Write the snapshot's JSON objects as the publisher renders them, from a paginated scan of the table.

    The publisher's HTML page is left out on purpose: these tests are about the read path only.
    """
    from publisher.core.ddb import scan_items
    from publisher.core.documents import catalogue_document, json_object
    from publisher.core.model import to_record
    from publisher.publish.store import SiteStore

    models = sorted_records(to_record(item) for item in scan_items(aws.client("dynamodb"), "llm_scores"))
    store = SiteStore(aws.client("s3"), TEST_BUCKET)
    document = catalogue_document(version, "2026-01-01T00:00:00Z", models)
    store.publish([json_object("llms", models), json_object("llms.json", document)], version)


def event(
    path: str, query: str = "", method: str = "GET", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    base = copy.deepcopy(load_event("url_list_models"))
    base.update(rawPath=path, rawQueryString=query, headers=headers or {})
    base.pop("queryStringParameters", None)
    base["requestContext"]["http"].update(method=method, path=path)
    return base


def body(response: dict[str, Any]) -> Any:
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


def test_filters_from_the_s3_snapshot(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any
) -> None:
    rebuild(lambda_context)
    response = handler(load_event("url_list_models"), lambda_context)
    assert response["statusCode"] == 200
    # The function's copy of the published object: `s3` is what the edge says for the object itself.
    assert response["headers"]["X-Snapshot-Source"] == "memory"
    page = body(response)
    expected = sorted(
        (m for m in seeded if m["provider"].lower() in {"openai", "anthropic"} and m["score"] >= 90),
        key=lambda m: (-(m.get("context_window") or -1), m["model_name"]),
    )
    assert [m["model_name"] for m in page["items"]] == [m["model_name"] for m in expected[:2]]
    assert page["total"] == len(expected) and page["next"]


def test_repeated_providers_come_from_the_raw_query_string(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any
) -> None:
    rebuild(lambda_context)
    providers = {
        m["provider"] for m in body(handler(load_event("url_list_models"), lambda_context))["items"]
    }
    assert providers <= {"OpenAI", "Anthropic"}


def test_single_model_by_encoded_name(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any
) -> None:
    rebuild(lambda_context)
    response = handler(load_event("url_get_model"), lambda_context)
    assert response["statusCode"] == 200
    assert body(response) == {
        "model_name": "Claude 3 Opus",
        "provider": "Anthropic",
        "context_window": 200000,
        "score": 96.0,
    }


def test_missing_snapshot_is_answered_from_dynamodb(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any
) -> None:
    response = handler(event("/api/llms", "provider=OpenAI"), lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["X-Snapshot-Source"] == "dynamodb"
    assert {m["provider"] for m in body(response)["items"]} == {"OpenAI"}


def test_failover_llms_is_byte_for_byte_what_the_publisher_writes(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any
) -> None:
    fallback = handler(load_event("url_llms_json_failover"), lambda_context)
    array = handler(event("/llms"), lambda_context)
    assert fallback["statusCode"] == array["statusCode"] == 200
    assert fallback["headers"]["X-Snapshot-Source"] == "dynamodb"
    rebuild(lambda_context)
    s3 = aws.client("s3")
    published = s3.get_object(Bucket=TEST_BUCKET, Key="llms")
    assert array["body"].encode() == published["Body"].read()
    # Served from its S3 copy, each failover answer carries the ETag S3 gave the same object.
    assert handler(event("/api/llms", "min_version=1"), lambda_context)["headers"]["X-Snapshot-Source"] == "memory"
    for path in ("/llms", "/llms.json"):
        answer = handler(event(path), lambda_context)
        assert answer["headers"]["ETag"] == s3.head_object(Bucket=TEST_BUCKET, Key=path[1:])["ETag"]
        # The failover answer never claims to be the S3 object the edge could not serve.
        assert answer["headers"]["X-Snapshot-Source"] == "memory"
    document = json.loads(fallback["body"])
    assert document["schema_version"] == 1 and document["count"] == len(seeded)


def test_failover_prefers_a_fresh_look_at_s3(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any
) -> None:
    rebuild(lambda_context)
    assert handler(event("/api/health"), lambda_context)["headers"]["X-Snapshot-Source"] == "memory"
    aws.client("s3").delete_object(Bucket=TEST_BUCKET, Key="llms.json")
    response = handler(event("/llms.json"), lambda_context)
    assert response["statusCode"] == 200 and response["headers"]["X-Snapshot-Source"] == "dynamodb"
    assert body(response)["count"] == len(seeded)


def test_s3_errors_fall_back_to_dynamodb(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuild(lambda_context)
    s3 = aws.client("s3")

    def failing(**kwargs: Any) -> Any:
        raise ClientError(
            {
                "Error": {"Code": "InternalError", "Message": "boom"},
                "ResponseMetadata": {"HTTPStatusCode": 500},
            },
            "GetObject",
        )

    monkeypatch.setattr(s3, "get_object", failing)
    response = handler(event("/api/llms/GPT-4"), lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["X-Snapshot-Source"] == "dynamodb"


def test_a_missing_bucket_falls_back_to_dynamodb(table: str, lambda_context: Any, handler: Any) -> None:
    seed(aws.client("dynamodb"), "llm_scores", sample_models())
    response = handler(event("/api/providers"), lambda_context)
    assert response["statusCode"] == 200 and response["headers"]["X-Snapshot-Source"] == "dynamodb"
    assert body(response)["count"] == len({m["provider"].lower() for m in sample_models()})


def test_invalid_items_are_left_out_and_logged(
    table: str, bucket: str, lambda_context: Any, handler: Any, caplog: pytest.LogCaptureFixture
) -> None:
    dynamodb = aws.client("dynamodb")
    dynamodb.put_item(
        TableName="llm_scores",
        Item={"model_name": {"S": "Good"}, "provider": {"S": "P"}, "score": {"N": "90"}},
    )
    dynamodb.put_item(
        TableName="llm_scores",
        Item={"model_name": {"S": "Bad"}, "provider": {"S": "P"}, "score": {"N": "900"}},
    )
    with caplog.at_level(logging.WARNING):
        response = handler(event("/api/llms"), lambda_context)
    assert [m["model_name"] for m in body(response)["items"]] == ["Good"]
    assert any(getattr(r, "model_name", None) == "Bad" for r in caplog.records)


def test_no_data_anywhere_is_a_503(mocked_aws: None, lambda_context: Any, handler: Any) -> None:
    response = handler(event("/api/health"), lambda_context)
    assert response["statusCode"] == 503
    assert body(response)["error"]["code"] == "no_data"
    assert response["headers"]["Cache-Control"] == "no-store"


def test_health_reports_the_snapshot(seeded: list[dict[str, Any]], lambda_context: Any, handler: Any) -> None:
    rebuild(lambda_context)
    health = body(handler(event("/api/health"), lambda_context))
    assert health["status"] == "ok" and health["source"] == "s3"
    assert health["version"] >= 1 and health["count"] == len(seeded) and health["age_seconds"] >= 0


def test_bad_input_is_a_400_naming_the_parameter(mocked_aws: None, lambda_context: Any, handler: Any) -> None:
    response = handler(load_event("url_bad_min_score"), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["error"]["parameter"] == "min_score"


def test_etag_revalidation_gives_304(seeded: list[dict[str, Any]], lambda_context: Any, handler: Any) -> None:
    rebuild(lambda_context)
    first = handler(event("/api/llms", "provider=Meta"), lambda_context)
    again = handler(
        event("/api/llms", "provider=Meta", headers={"if-none-match": first["headers"]["ETag"]}),
        lambda_context,
    )
    assert again["statusCode"] == 304 and again["body"] == ""


def test_history_serves_the_models_line_of_its_shard(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.core.config import ENV_REVALIDATE_SECONDS
    from publisher.core.documents import dumps
    from publisher.core.history import merge_history
    from publisher.core.identity import history_shard_key

    monkeypatch.setenv(ENV_REVALIDATE_SECONDS, "0")
    rebuild(lambda_context)
    document = dumps(merge_history("GPT-4", None, [], 5))
    shard = history_shard_key("GPT-4")
    aws.client("s3").put_object(Bucket=TEST_BUCKET, Key=shard, Body=document + b"\n")
    response = handler(event("/api/llms/GPT-4/history"), lambda_context)
    assert response["statusCode"] == 200 and response["body"].encode() == document
    aws.client("s3").delete_object(Bucket=TEST_BUCKET, Key=shard)
    assert handler(event("/api/llms/GPT-4/history"), lambda_context)["statusCode"] == 404


def test_unexpected_errors_are_a_bare_500_and_logged(
    mocked_aws: None,
    lambda_context: Any,
    handler: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(self: Any, request: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(read.ReadApi, "handle", broken)
    with caplog.at_level(logging.ERROR):
        response = handler(event("/api/llms"), lambda_context)
    assert response["statusCode"] == 500
    assert "secret" not in response["body"] and "Traceback" not in response["body"]
    assert body(response)["error"]["code"] == "internal_error"
    assert any(r.exc_info for r in caplog.records)


def test_each_request_logs_one_line_without_the_event(
    seeded: list[dict[str, Any]], lambda_context: Any, handler: Any, caplog: pytest.LogCaptureFixture
) -> None:
    rebuild(lambda_context)
    with caplog.at_level(logging.INFO, logger="publisher.read"):
        handler(load_event("url_list_models"), lambda_context)
    lines = [r for r in caplog.records if r.name == "publisher.read"]
    assert len(lines) == 1
    record = lines[0]
    assert (record.method, record.path, record.status, record.source) == (  # type: ignore[attr-defined]
        "GET",
        "/api/llms",
        200,
        "s3",
    )
    assert "x-amz-cf-id" not in record.getMessage()


def test_metrics_are_embedded_metric_format_in_lambda(
    seeded: list[dict[str, Any]],
    lambda_context: Any,
    handler: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "read-api")
    handler(event("/api/llms"), lambda_context)
    metric = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LlmCatalogue"
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert (metric["service"], metric["FallbackAnswers"]) == ("read-api", 1)


def test_the_local_stack_sees_the_read_functions_metric(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside Lambda the EMF line is written only when metrics are enabled outright (`make run`)."""
    from publisher.read.handler import _metrics_enabled

    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    assert not _metrics_enabled()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    assert _metrics_enabled()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "read-api")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    assert not _metrics_enabled()


def test_answers_from_the_snapshot_emit_no_custom_metric(capsys: pytest.CaptureFixture[str]) -> None:
    from publisher.read.catalogue import SOURCE_S3
    from publisher.read.handler import emit_metrics

    emit_metrics(SOURCE_S3)
    emit_metrics(None)
    assert capsys.readouterr().out == ""


def test_importing_the_handler_loads_no_aws_sdk() -> None:
    code = (
        "import sys, publisher.read.handler; "
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
