"""Unchanged objects are recognised by the content hash the publisher stores, never by S3's ETag.

Run on an S3 whose ETags are not MD5s of the bytes (tests/opaque_etags.py), as in AWS where the
site bucket is encrypted with a KMS key.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from publisher.core import aws
from publisher.core.documents import LOG_PREFIX
from publisher.core.identity import HISTORY_SHARD_PREFIX, history_shard_key, provider_key
from publisher.ops.seed import sample_models, seed
from publisher.publish import handler as publish
from publisher.read import handler as read
from tests.conftest import TEST_BUCKET, load_event, stream_record
from tests.opaque_etags import OpaqueETags


@pytest.fixture
def opaque(table: str, bucket: str) -> OpaqueETags:
    publish.reset()
    read.reset()
    seed(aws.client("dynamodb"), "llm_scores", sample_models())
    return OpaqueETags(aws.client("s3"))


def rebuild(lambda_context: Any) -> dict[str, Any]:
    return publish.handler({"action": "rebuild", "reason": "test"}, lambda_context)


def request(path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load_event("url_list_models"))
    event.update(rawPath=path, rawQueryString="", headers=headers or {})
    event.pop("queryStringParameters", None)
    event["requestContext"]["http"].update(method="GET", path=path)
    return read.handler(event, None)


def test_the_stand_in_gives_etags_that_are_no_md5_of_the_bytes(opaque: OpaqueETags, lambda_context: Any) -> None:
    rebuild(lambda_context)
    first = aws.client("s3").get_object(Bucket=TEST_BUCKET, Key="llms.json")
    body = first["Body"].read()
    assert first["ETag"].strip('"') != hashlib.md5(body, usedforsecurity=False).hexdigest()


def test_a_rebuild_over_an_unchanged_catalogue_writes_no_object(opaque: OpaqueETags, lambda_context: Any) -> None:
    assert rebuild(lambda_context)["written"] > 0
    opaque.writes.clear()
    opaque.calls.clear()
    result = rebuild(lambda_context)
    assert (result["drift"], result["written"]) == (0, 0)
    # Not a public object, and not the private state either: nothing at all; and the histories and
    # log of the last publish, already landed, are not even read again.
    assert opaque.writes == []
    assert not [key for _, key in opaque.calls if key.startswith((HISTORY_SHARD_PREFIX, LOG_PREFIX))]


def test_a_replayed_stream_batch_writes_no_object(opaque: OpaqueETags, lambda_context: Any) -> None:
    rebuild(lambda_context)
    batch = {"Records": [stream_record("MODIFY", 10**20, "GPT-4", new={**sample_models()[0], "score": 97})]}
    publish.handler(batch, lambda_context)
    opaque.writes.clear()
    assert publish.handler(batch, lambda_context) == {"batchItemFailures": []}
    assert opaque.writes == []


def test_a_publish_rewrites_only_what_changed(opaque: OpaqueETags, lambda_context: Any) -> None:
    rebuild(lambda_context)
    gpt4 = next(m for m in sample_models() if m["model_name"] == "GPT-4")
    opaque.writes.clear()
    publish.handler({"Records": [stream_record("MODIFY", 10**20, "GPT-4", new={**gpt4, "score": 97}, old=gpt4)]},
                    lambda_context)
    written = {key for _, key in opaque.writes}
    # The documents that show GPT-4 or name the snapshot version (every provider file does), its
    # history shard, the version's log and the state; the schemas and static assets, unchanged,
    # are skipped by their stored hash.
    changed = {"llms.json", "llms", "index.html", provider_key(gpt4["provider"]), "changes.json", "changes.xml",
               history_shard_key("GPT-4"), "internal/log/000000000002.json", "internal/state.json"}
    assert changed <= written
    assert all(key.startswith("providers/") for key in written - changed)
    listed = aws.client("s3").list_objects_v2(Bucket=TEST_BUCKET)["Contents"]
    unchanged = {o["Key"] for o in listed if o["Key"].startswith(("schemas/", "static/"))}
    assert unchanged and not unchanged & written


def test_failover_answers_carry_the_etag_s3_gave_the_same_bytes(opaque: OpaqueETags, lambda_context: Any) -> None:
    rebuild(lambda_context)
    s3 = aws.client("s3")
    for path in ("/llms.json", "/llms"):
        stored = s3.get_object(Bucket=TEST_BUCKET, Key=path.lstrip("/"))
        answer = request(path)
        assert answer["statusCode"] == 200 and answer["body"].encode() == stored["Body"].read()
        assert answer["headers"]["ETag"] == stored["ETag"]
        # A client holding the CDN's copy from S3 revalidates against the failover answer.
        assert request(path, {"if-none-match": stored["ETag"]})["statusCode"] == 304
    status = json.loads(request("/api/health")["body"])
    assert status["source"] == "s3"
