"""One fixture chain: fake credentials and region -> mock_aws() -> table and bucket from the code's constants."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest

# Before any AWS SDK import: tests never reach a real account.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_SERVICE_NAME="publisher",
    POWERTOOLS_METRICS_NAMESPACE="LlmCatalogue",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

REPO = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
TEST_BUCKET = "llm-catalogue-site-test"
REQUIRE_TOOLS = "LLM_REQUIRE_TOOLS"


def require_tool(name: str, path: str | None = None) -> str:
    """Path of an external tool; skip loudly when missing, or fail when CI demands every tool."""
    found = path if path and Path(path).exists() else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed: this test cannot run here (CI sets {REQUIRE_TOOLS}=1 and installs it)"
    if os.environ.get(REQUIRE_TOOLS) == "1":
        pytest.fail(f"{REQUIRE_TOOLS}=1 but {message}")
    pytest.skip(f"SKIPPED LOUDLY: {message}")
    raise AssertionError("unreachable")


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from publisher.core.config import ENV_SITE_BUCKET, ENV_TABLE_NAME

    monkeypatch.setenv(ENV_TABLE_NAME, "llm_scores")
    monkeypatch.setenv(ENV_SITE_BUCKET, TEST_BUCKET)
    yield


@pytest.fixture
def mocked_aws(aws_env: None) -> Iterator[None]:
    from moto import mock_aws

    from publisher.core import aws
    from publisher.local.emulator import fill_gaps
    from publisher.publish import handler as publish

    fill_gaps()  # conditional S3 PUTs atomic, as in S3 (racing-publisher tests rely on it)
    with mock_aws():
        aws.reset_clients()
        publish.reset()
        yield
    aws.reset_clients()
    publish.reset()


@pytest.fixture
def table(mocked_aws: None) -> str:
    """The `llm_scores` table with its stream; returns the stream ARN."""
    from publisher.core import aws
    from publisher.local.resources import ensure_table

    return ensure_table(aws.client("dynamodb"), "llm_scores")


@pytest.fixture
def bucket(mocked_aws: None) -> str:
    from publisher.core import aws
    from publisher.local.resources import ensure_bucket

    ensure_bucket(aws.client("s3"), TEST_BUCKET)
    return TEST_BUCKET


@pytest.fixture
def lambda_context() -> Any:
    from publisher.local.lambda_shapes import LambdaContext

    return LambdaContext()


def stream_record(event_name: str, sequence: int, key: str, new: dict[str, Any] | None = None,
                  old: dict[str, Any] | None = None, at: float = 1_764_000_000.0) -> dict[str, Any]:
    """One DynamoDB Streams record as Lambda delivers it, from plain item dicts."""
    from publisher.core.ddb import serialize

    body: dict[str, Any] = {
        "ApproximateCreationDateTime": at,
        "Keys": {"model_name": {"S": key}},
        "SequenceNumber": str(sequence).rjust(21, "0"),
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = {k: serialize(v) for k, v in new.items()}
    if old is not None:
        body["OldImage"] = {k: serialize(v) for k, v in old.items()}
    return {
        "eventID": f"evt-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/llm_scores/stream/2026-01-01T00:00:00.000",
    }


def read_site_json(key: str, bucket: str = TEST_BUCKET) -> Any:
    from publisher.core import aws

    return json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def stored_history(get: Any, model_name: str) -> bytes | None:
    """A model's history document as stored: its line of its shard (`get` reads an object's bytes, None when absent)."""
    from publisher.core.history_shards import find_document
    from publisher.core.identity import history_shard_key

    return find_document(get(history_shard_key(model_name)), model_name)


def read_history(model_name: str, bucket: str = TEST_BUCKET) -> Any:
    """A model's history document as stored (its line of its shard), or None when it has none."""
    from publisher.core import aws
    from publisher.publish.store import SiteStore

    document = stored_history(SiteStore(aws.client("s3"), bucket).get_bytes, model_name)
    return None if document is None else json.loads(document)


# Least privilege, recorded: every AWS operation made while a Lambda handler is on the stack is
# noted under that function's name; tests/infra/test_least_privilege.py (run last) checks them
# against the functions' policies in infra/iam.tf.
HANDLER_FILES = {
    str(REPO / "publisher" / "publish" / "handler.py"): "publisher",
    str(REPO / "publisher" / "read" / "handler.py"): "read",
    str(REPO / "publisher" / "canary" / "handler.py"): "canary",
}
RECORDED_OPERATIONS: dict[str, set[tuple[str, str | None]]] = {"publisher": set(), "read": set(), "canary": set()}


def operation_key(service: str, api_params: dict[str, Any]) -> str | None:
    """What an IAM resource or condition check needs besides the action: the S3 object key ("" for a
    bucket-level call), or the DynamoDB item's partition key (dynamodb:LeadingKeys)."""
    if service == "s3":
        key = api_params.get("Key")
        return key if isinstance(key, str) else ("" if "Bucket" in api_params else None)
    if service == "dynamodb":
        item = api_params.get("Item") or api_params.get("Key")
        value = item.get("model_name") if isinstance(item, dict) else None
        return value.get("S") if isinstance(value, dict) else None
    return None
_WORKER_FUNCTION: ContextVar[str | None] = ContextVar("worker_function", default=None)


def _calling_function() -> str | None:
    import sys

    frame = sys._getframe(2)
    while frame is not None:
        function = HANDLER_FILES.get(frame.f_code.co_filename)
        if function:
            return function
        frame = frame.f_back
    # A worker thread of a handler's thread pool: the submitting handler was noted at submit time.
    return _WORKER_FUNCTION.get()


@pytest.fixture(scope="session", autouse=True)
def record_aws_operations() -> Iterator[None]:
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = _calling_function()
        if function:
            service = self.meta.service_model.service_name
            operation = f"{service}.{operation_name}"
            # Reading one version of an object is its own IAM action (s3:GetObjectVersion).
            if api_params.get("VersionId"):
                operation += "(VersionId)"
            RECORDED_OPERATIONS[function].add((operation, operation_key(service, api_params)))
        return original(self, operation_name, api_params)

    original_submit = ThreadPoolExecutor.submit

    def submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        function = _calling_function()
        if function is None:
            return original_submit(self, fn, *args, **kwargs)

        def run(*a: Any, **k: Any) -> Any:
            token = _WORKER_FUNCTION.set(function)
            try:
                return fn(*a, **k)
            finally:
                _WORKER_FUNCTION.reset(token)

        return original_submit(self, run, *args, **kwargs)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
    ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        ThreadPoolExecutor.submit = original_submit  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The least-privilege check runs last, after every handler test has recorded its calls."""
    last = [item for item in items if item.path.name == "test_least_privilege.py"]
    items[:] = [item for item in items if item.path.name != "test_least_privilege.py"] + last
