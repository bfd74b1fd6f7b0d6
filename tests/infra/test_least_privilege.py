"""Least privilege: what the handlers call is allowed by their role in infra/iam.tf, and no more is granted.

`recorded_operations.json` (next to this file, written by the integration tests' botocore hook)
maps a function to the operations it called: {"publisher": ["s3.PutObject", ...] or
[{"operation": "s3.PutObject", "key": "llms.json"}, ...], "read": [...]}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .iam_check import SERVICE_USED, allowed, granted_actions, iam_action, unused_grants

pytestmark = pytest.mark.infra

RECORDED = Path(__file__).resolve().parent / "recorded_operations.json"


def recorded() -> dict[str, list[tuple[str, str | None]]]:
    if not RECORDED.exists():
        return {}
    raw: dict[str, list[Any]] = json.loads(RECORDED.read_text())
    calls: dict[str, list[tuple[str, str | None]]] = {}
    for function, operations in raw.items():
        calls[function] = [
            (op, None) if isinstance(op, str) else (op["operation"], op.get("key")) for op in operations
        ]
    return calls


def test_operation_names_map_to_iam_actions() -> None:
    assert iam_action("s3.HeadObject") == "s3:GetObject"
    assert iam_action("s3.ListObjectsV2") == "s3:ListBucket"
    assert iam_action("dynamodb.Scan") == "dynamodb:Scan"
    assert iam_action("dynamodbstreams.GetRecords") == "dynamodb:GetRecords"


@pytest.mark.parametrize(("operation", "key"), [
    ("s3.GetObject", "llms.json"), ("s3.HeadObject", "internal/state.json"), ("s3.PutObject", "llms"),
    ("s3.PutObject", "internal/state.json"), ("s3.DeleteObject", "providers/meta.json"),
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
    ("s3.GetObject", "llms.json", True), ("s3.GetObject", "history/gpt-4.json", True),
    ("s3.ListObjectsV2", "", True), ("dynamodb.Scan", None, True),
    ("s3.GetObject", "internal/state.json", False), ("s3.PutObject", "llms.json", False),
    ("dynamodb.GetItem", None, False), ("sqs.SendMessage", None, False),
])
def test_read_api_scope(operation: str, key: str | None, expected: bool) -> None:
    assert allowed("read", operation, key) is expected


def test_exceptions_are_granted_and_explained() -> None:
    for function, exempt in SERVICE_USED.items():
        assert set(exempt) <= granted_actions(function), function
        assert all(reason for reason in exempt.values())


@pytest.mark.skipif(not RECORDED.exists(),
                    reason=f"no {RECORDED.name} yet (written by the integration tests' recorder)")
@pytest.mark.parametrize("function", ["publisher", "read"])
def test_recorded_operations_are_allowed_and_every_grant_is_used(function: str) -> None:
    calls = recorded().get(function, [])
    assert calls, f"{RECORDED.name} has no operations for {function}"
    denied = sorted({f"{op} {key or ''}".strip() for op, key in calls if not allowed(function, op, key)})
    assert not denied, f"{function} calls operations its role does not allow: {denied}"
    unused = unused_grants(function, [op for op, _ in calls])
    assert not unused, f"{function}'s role grants actions no code path used: {sorted(unused)}"
