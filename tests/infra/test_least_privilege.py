"""Least privilege: what the handlers call is allowed by their role in infra/, and no more is granted.

Every AWS operation made under a handler during the session is recorded by a botocore hook in
tests/conftest.py; this module runs last, drives both handlers once more itself (so it stands
alone), and writes what it checked to `recorded_operations.json` (git-ignored) for inspection.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .iam_check import SERVICE_USED, allowed, granted_actions, iam_action, unused_grants

pytestmark = pytest.mark.infra

RECORDED = Path(__file__).resolve().parent / "recorded_operations.json"


def test_operation_names_map_to_iam_actions() -> None:
    assert iam_action("s3.HeadObject") == "s3:GetObject"
    assert iam_action("s3.ListObjectsV2") == "s3:ListBucket"
    assert iam_action("dynamodb.Scan") == "dynamodb:Scan"
    assert iam_action("dynamodbstreams.GetRecords") == "dynamodb:GetRecords"


@pytest.mark.parametrize(("operation", "key"), [
    ("s3.GetObject", "llms.json"), ("s3.HeadObject", "internal/state.json"), ("s3.PutObject", "llms"),
    ("s3.PutObject", "internal/state.json"), ("s3.DeleteObject", "providers/meta.json"),
    ("s3.DeleteObject", "history/gpt-4.json"),
    ("s3.ListObjectsV2", ""), ("dynamodb.Scan", None),
])
def test_publisher_may(operation: str, key: str | None) -> None:
    assert allowed("publisher", operation, key)


@pytest.mark.parametrize(("operation", "key"), [
    ("s3.DeleteObject", "llms.json"), ("s3.DeleteObject", "internal/state.json"), ("dynamodb.PutItem", None),
    ("dynamodb.DeleteTable", None), ("s3.PutBucketPolicy", ""), ("cloudwatch.PutMetricData", None),
])
def test_publisher_may_not(operation: str, key: str | None) -> None:
    assert not allowed("publisher", operation, key)


@pytest.mark.parametrize(("operation", "key", "expected"), [
    ("s3.GetObject", "llms.json", True), ("s3.GetObject", "internal/history/07.jsonl", True),
    ("s3.GetObject", "history/gpt-4.json", False), ("s3.GetObject", "internal/log/000000000001.json", True),
    ("s3.GetObject", "internal/state.json", False),
    ("s3.GetObject", "internal/checkpoint/000000000032.json", True),
    ("s3.GetObject", "internal/checkpoint-index.json", True),
    ("s3.GetObject", "internal/checkpoint-other.json", False),
    ("s3.HeadObject", "llms", True), ("s3.HeadObject(VersionId)", "llms.json", True),
    ("s3.ListObjectVersions", None, True), ("s3.HeadObject(VersionId)", "internal/state.json", False),
    ("s3.GetObject", "providers/openai.json", False), ("s3.DeleteObject", "history/gpt-4.json", False),
    ("s3.ListObjectsV2", "", True), ("dynamodb.Scan", None, True),
    ("s3.GetObject", "internal/state.json", False), ("s3.PutObject", "llms.json", False),
    ("dynamodb.GetItem", None, False), ("sqs.SendMessage", None, False),
])
def test_read_api_scope(operation: str, key: str | None, expected: bool) -> None:
    assert allowed("read", operation, key) is expected


@pytest.mark.parametrize(("operation", "key", "expected"), [
    ("dynamodb.PutItem", "__canary__/heartbeat", True),
    ("dynamodb.PutItem", "GPT-4", False), ("dynamodb.PutItem", None, False),
    ("dynamodb.GetItem", "__canary__/heartbeat", False), ("dynamodb.DeleteItem", "__canary__/heartbeat", False),
    ("dynamodb.UpdateItem", "__canary__/heartbeat", False), ("dynamodb.Scan", None, False),
    ("dynamodbstreams.GetRecords", None, False), ("s3.GetObject", "llms.json", False),
    ("cloudwatch.PutMetricData", None, False),
])
def test_canary_may_write_only_its_heartbeat(operation: str, key: str | None, expected: bool) -> None:
    assert allowed("canary", operation, key) is expected


@pytest.mark.parametrize(("action", "key", "condition"), [
    ("s3:GetObject", "llms.json", ("StringEquals", "aws:SourceVpce", ("vpce-1",))),
    ("dynamodb:PutItem", "GPT-4", ("StringEquals", "aws:SourceIp", ("10.0.0.1",))),
    ("dynamodb:PutItem", "GPT-4", ("StringLike", "dynamodb:LeadingKeys", ("GPT-*",))),
])
def test_a_condition_the_check_cannot_evaluate_is_refused_not_ignored(
    action: str, key: str, condition: tuple[str, str, tuple[str, ...]]
) -> None:
    from .iam_check import TABLE_REF, Statement

    resources = (TABLE_REF,) if action.startswith("dynamodb:") else ("*",)
    statement = Statement("Conditional", (action,), resources, conditions=(condition,))
    with pytest.raises(ValueError, match="not evaluated by this check"):
        statement.covers(action, key)


@pytest.mark.parametrize(("function", "operation", "expected"), [
    ("publisher", "dynamodb.Scan", True), ("publisher", "dynamodbstreams.GetRecords", True),
    ("read", "dynamodb.Scan", True), ("read", "dynamodbstreams.GetRecords", False),
])
def test_dynamodb_grants_tell_the_table_from_its_stream(function: str, operation: str, expected: bool) -> None:
    assert allowed(function, operation) is expected


def test_exceptions_are_granted_and_explained() -> None:
    for function, exempt in SERVICE_USED.items():
        assert set(exempt) <= granted_actions(function), function
        assert all(reason for reason in exempt.values())


def _exercise_handlers() -> None:
    """Drive the handlers through their code paths under moto, so the check stands on its own
    when this file runs alone; in a full run the integration tests have recorded more already."""
    import os
    from unittest import mock

    from moto import mock_aws

    from publisher.canary import handler as canary
    from publisher.core import aws
    from publisher.local.lambda_shapes import LambdaContext, function_url_event
    from publisher.local.resources import ensure_bucket, ensure_table
    from publisher.ops.seed import sample_models, seed
    from publisher.publish import handler as publish
    from publisher.read import handler as read
    from tests.conftest import TEST_BUCKET, load_event

    env = {"TABLE_NAME": "llm_scores", "SITE_BUCKET": TEST_BUCKET}
    with mock.patch.dict(os.environ, env), mock_aws():
        aws.reset_clients()
        publish.reset()
        read.reset()
        ensure_table(aws.client("dynamodb"), "llm_scores")
        ensure_bucket(aws.client("s3"), TEST_BUCKET)
        seed(aws.client("dynamodb"), "llm_scores", sample_models())
        context = LambdaContext()
        publish.handler(load_event("stream_insert_poc"), context)
        publish.handler(load_event("stream_modify_remove"), context)
        publish.handler(load_event("rebuild"), context)
        for path, query in [("/api/llms", "provider=OpenAI"), ("/api/llms/GPT-4", ""),
                            ("/api/llms/GPT-4/history", ""), ("/api/providers", ""), ("/api/health", ""),
                            ("/llms.json", ""), ("/llms", ""), ("/history/gpt-4.json", ""),
                            ("/providers/openai.json", ""), ("/api/llms/Nobody", "")]:
            read.handler(function_url_event("GET", path, query, "127.0.0.1"), None)
        # A cold instance with the snapshot deleted, then with both list objects deleted.
        for key in ("llms.json", "llms"):
            aws.client("s3").delete_object(Bucket=TEST_BUCKET, Key=key)
            read.reset()
            read.handler(function_url_event("GET", "/llms.json", "", "127.0.0.1"), None)
        # The canary's AWS call is its heartbeat write; its edge is unreachable here, which it reports.
        with mock.patch.dict(os.environ, {"CANARY_BASE_URL": "http://127.0.0.1:9", "CANARY_TIMEOUT_SECONDS": "0"}):
            assert canary.handler({}, None)["ok"] is False
    aws.reset_clients()
    publish.reset()
    read.reset()


@pytest.fixture(scope="module")
def calls() -> dict[str, list[tuple[str, str | None]]]:
    from tests.conftest import RECORDED_OPERATIONS

    _exercise_handlers()
    merged = {function: sorted(ops, key=str) for function, ops in RECORDED_OPERATIONS.items()}
    RECORDED.write_text(json.dumps(
        {f: [{"operation": op, "key": key} for op, key in ops] for f, ops in merged.items()}, indent=1))
    return merged


@pytest.mark.parametrize("function", ["publisher", "read", "canary"])
def test_recorded_operations_are_allowed_and_every_grant_is_used(
    function: str, calls: dict[str, list[tuple[str, str | None]]]
) -> None:
    recorded_calls = calls.get(function, [])
    assert recorded_calls, f"no AWS operations were recorded for {function}"
    denied = sorted({f"{op} {key or ''}".strip() for op, key in recorded_calls if not allowed(function, op, key)})
    assert not denied, f"{function} calls operations its role does not allow: {denied}"
    unused = unused_grants(function, [op for op, _ in recorded_calls])
    assert not unused, f"{function}'s role grants actions no code path used: {sorted(unused)}"
