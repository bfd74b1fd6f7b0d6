"""Properties of the write path: replays and races never lose an update or move the version back."""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.core import aws
from publisher.core.ddb import deserialize_image, scan_items
from publisher.local.poller import lambda_record
from publisher.local.trigger_settings import trigger_settings
from publisher.publish import handler as publish
from publisher.publish.publisher import Publisher
from publisher.publish.state import StreamChange
from publisher.publish.store import SiteStore
from tests.conftest import TEST_BUCKET, read_site_json

KEYS = ["GPT-4", "Claude 3 Opus", "Llama 3 70B", "Gemini 1.5 Pro", "Mistral Large"]
PROVIDERS = ["OpenAI", "Anthropic", "Meta", "Google"]

operation = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS), st.sampled_from(PROVIDERS),
              st.decimals(min_value=0, max_value=100, places=1), st.none() | st.integers(1, 2_000_000)),
    st.tuples(st.just("update"), st.sampled_from(KEYS), st.decimals(min_value=0, max_value=100, places=1)),
    st.tuples(st.just("delete"), st.sampled_from(KEYS)),
    # Data a careless writer might send: it must be left out, never block the rest.
    st.tuples(st.just("bad"), st.sampled_from(KEYS)),
)


def _apply_to_table(ddb: Any, op: tuple) -> None:
    kind, key = op[0], op[1]
    if kind == "put":
        item = {"model_name": {"S": key}, "provider": {"S": op[2]}, "score": {"N": str(op[3])}}
        if op[4] is not None:
            item["context_window"] = {"N": str(op[4])}
        ddb.put_item(TableName="llm_scores", Item=item)
    elif kind == "update":
        ddb.update_item(TableName="llm_scores", Key={"model_name": {"S": key}},
                        UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": str(op[2])}})
    elif kind == "delete":
        ddb.delete_item(TableName="llm_scores", Key={"model_name": {"S": key}})
    else:
        ddb.put_item(TableName="llm_scores", Item={"model_name": {"S": key}, "score": {"S": "n/a"}})


def _stream_records(stream_arn: str) -> list[dict[str, Any]]:
    streams = aws.client("dynamodbstreams")
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    records: list[dict[str, Any]] = []
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += [lambda_record(r, stream_arn) for r in response["Records"]]
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
    return records


def _expected(ddb: Any) -> list[dict[str, Any]]:
    from publisher.core.model import InvalidItem, sorted_records, to_record

    valid = []
    for item in scan_items(ddb, "llm_scores"):
        with contextlib.suppress(InvalidItem):
            valid.append(to_record(item))
    return sorted_records(valid)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Batch sizes: small cuts, and the trigger's own (infra/variables.tf), which takes a burst at once.
@given(ops=st.lists(operation, min_size=1, max_size=16),
       cuts=st.lists(st.integers(1, 8) | st.just(trigger_settings().batch_size), min_size=1),
       replays=st.lists(st.integers(0, 30), max_size=4), data=st.data())
def test_published_snapshot_equals_the_table_whatever_the_batching_and_replays(
    mocked_aws: None, lambda_context: Any, ops: list[tuple], cuts: list[int], replays: list[int],
    data: st.DataObject,
) -> None:
    from publisher.local.resources import ensure_bucket, ensure_table

    ddb = aws.client("dynamodb")
    s3 = aws.client("s3")
    # Each example starts from an empty table and bucket.
    if "llm_scores" in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName="llm_scores")
    stream_arn = ensure_table(ddb, "llm_scores")
    ensure_bucket(s3, TEST_BUCKET)
    for version in s3.list_object_versions(Bucket=TEST_BUCKET).get("Versions", []):
        s3.delete_object(Bucket=TEST_BUCKET, Key=version["Key"], VersionId=version["VersionId"])

    for op in ops:
        _apply_to_table(ddb, op)
    records = _stream_records(stream_arn)
    batches, start, i = [], 0, 0
    while start < len(records):
        size = cuts[i % len(cuts)]
        batches.append(records[start:start + size])
        start, i = start + size, i + 1
    delivered = list(batches)
    for r in replays:  # the trigger may deliver any batch again, late
        if batches:
            position = data.draw(st.integers(r % len(delivered), len(delivered)))
            delivered.insert(position, batches[r % len(batches)])
    versions = []
    for batch in delivered:
        assert publish.handler({"Records": batch}, lambda_context) == {"batchItemFailures": []}
        versions.append(read_site_json("llms.json")["version"] if _exists("llms.json") else 0)
    assert versions == sorted(versions), "the snapshot version went backward"
    if _exists("llms.json"):
        assert read_site_json("llms.json")["models"] == _expected(ddb)
        assert read_site_json("llms") == _expected(ddb)
    else:
        assert _expected(ddb) == []


def _exists(key: str) -> bool:
    return SiteStore(aws.client("s3"), TEST_BUCKET).head(key) is not None


def _change(seq: int, key: str, score: int) -> StreamChange:
    return StreamChange(key, str(seq), "INSERT", {"model_name": key, "provider": "P", "score": Decimal(score)},
                        "2026-01-01T00:00:00Z")


def test_two_publishers_racing_lose_no_update(bucket: str) -> None:
    """Interleave deterministically: A reads, B commits, A's conditional write must fail and retry."""
    import botocore.session

    def store() -> SiteStore:
        return SiteStore(aws.client("s3"), bucket)

    a, b = Publisher(store(), sleep=lambda s: None), Publisher(store(), sleep=lambda s: None)
    a.apply_stream([_change(1, "base", 1)])
    original_load = a.store.load_state
    raced = {"done": False}

    def load_then_let_b_win() -> Any:
        loaded = original_load()
        if not raced["done"]:
            raced["done"] = True
            b.apply_stream([_change(2, "from-b", 2)])
        return loaded

    a.store.load_state = load_then_let_b_win  # type: ignore[method-assign]
    result = a.apply_stream([_change(3, "from-a", 3)])
    assert result.conflicts >= 1
    doc = read_site_json("llms.json")
    assert {m["model_name"] for m in doc["models"]} == {"base", "from-a", "from-b"}
    assert doc["version"] == 3
    assert botocore.session  # imported for its side effect of nothing; keeps linters calm


def test_many_publishers_in_threads_keep_every_update_and_monotonic_versions(bucket: str) -> None:
    publishers = [Publisher(SiteStore(aws.client("s3"), bucket)) for _ in range(4)]
    seen_versions: list[list[int]] = [[] for _ in publishers]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for n in range(5):
                key = f"p{index}-m{n}"
                publishers[index].apply_stream([_change(1000 * index + n + 1, key, n)])
                seen_versions[index].append(read_site_json("llms.json")["version"])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(publishers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    doc = read_site_json("llms.json")
    assert len(doc["models"]) == 20 and doc["version"] == 20
    for versions in seen_versions:
        assert versions == sorted(versions)


@pytest.mark.parametrize("stale_first", [True, False])
def test_an_older_publisher_never_overwrites_a_newer_object(bucket: str, stale_first: bool) -> None:
    from publisher.core.documents import json_object

    store = SiteStore(aws.client("s3"), bucket)
    new, old = json_object("x.json", {"v": 2}), json_object("x.json", {"v": 1})
    if stale_first:
        store.put_if_newer(old, 1)
        store.put_if_newer(new, 2)
    else:
        store.put_if_newer(new, 2)
        assert store.put_if_newer(old, 1) == (False, 0)
    assert read_site_json("x.json") == {"v": 2}
    assert deserialize_image({}) == {}


def test_a_stale_prior_costs_one_conflict_and_never_overwrites_newer(bucket: str) -> None:
    from dataclasses import replace

    from publisher.core.documents import Prior, json_object

    store = SiteStore(aws.client("s3"), bucket)
    store.put_if_newer(json_object("h.json", {"v": 1}), 1)
    body, prior = store.get_with_prior("h.json")
    assert body is not None and prior.version == 1
    store.put_if_newer(json_object("h.json", {"v": 3}), 3)  # someone newer wrote since our read
    written, conflicts = store.put_if_newer(replace(json_object("h.json", {"v": 2}), prior=prior), 2)
    assert (written, conflicts) == (False, 1)
    assert read_site_json("h.json") == {"v": 3}
    written, conflicts = store.put_if_newer(
        replace(json_object("new.json", {"v": 1}), prior=Prior(None, -1)), 1)
    assert (written, conflicts) == (True, 0)
