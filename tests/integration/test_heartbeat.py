"""The canary's heartbeat through the publisher handler (moto): published as health.json, never as catalogue."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any
from unittest import mock

import jsonschema
import pytest
from botocore.exceptions import ClientError

from publisher.core import aws, schemas
from publisher.core.config import STATE_KEY
from publisher.core.ddb import serialize
from publisher.core.heartbeat import HEALTH_KEY, HEARTBEAT_KEY
from publisher.ops.seed import sample_models, seed
from publisher.publish import handler as publish
from publisher.read import handler as read
from tests.conftest import TEST_BUCKET, load_event, read_site_json, stream_record

PUBLIC_PREFIXES = ("llms.json", "llms", "index.html", "providers/", "changes.json", "changes.xml", "history/")


def beat(sequence: int, run_id: str = "run-1", at: str = "2026-01-02T03:04:05.678Z",
         last_version: int | None = 3, event: str = "MODIFY") -> dict[str, Any]:
    item: dict[str, Any] = {"model_name": HEARTBEAT_KEY, "run_id": run_id, "written_at": at}
    if last_version is not None:
        item["last_version"] = Decimal(last_version)
    return stream_record(event, sequence, HEARTBEAT_KEY, new=item)


def model(sequence: int, name: str, score: int = 50) -> dict[str, Any]:
    return stream_record("INSERT", sequence, name, new={"model_name": name, "provider": "P", "score": Decimal(score)})


def public_bodies(bucket: str = TEST_BUCKET) -> dict[str, bytes]:
    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read()
            for k in keys if k.startswith(PUBLIC_PREFIXES)}


def assert_heartbeat_nowhere_public(bucket: str = TEST_BUCKET) -> None:
    bodies = public_bodies(bucket)
    assert {"llms.json", "llms", "index.html", "changes.json"} <= set(bodies)
    leaked = [key for key, body in bodies.items() if HEARTBEAT_KEY.encode() in body or b"canary" in body]
    assert leaked == [], f"the heartbeat leaked into {leaked}"


def test_a_heartbeat_alone_writes_health_json_and_nothing_else(bucket: str, lambda_context: Any) -> None:
    publish.handler({"Records": [model(1, "Alpha")]}, lambda_context)
    before = public_bodies()
    state_before = aws.client("s3").get_object(Bucket=bucket, Key=STATE_KEY)["Body"].read()

    assert publish.handler({"Records": [beat(2)]}, lambda_context) == {"batchItemFailures": []}

    health = read_site_json(HEALTH_KEY)
    jsonschema.Draft202012Validator(schemas.standalone("Heartbeat"),
                                    format_checker=jsonschema.FormatChecker()).validate(health)
    assert health["$schema"] == "/schemas/heartbeat.schema.json" == schemas.schema_url("Heartbeat")
    assert health["heartbeat"] == {"run_id": "run-1", "written_at": "2026-01-02T03:04:05.678Z", "last_version": 3}
    assert health["sequence"] == "2".rjust(21, "0")
    assert public_bodies() == before, "a heartbeat must not republish the catalogue"
    assert aws.client("s3").get_object(Bucket=bucket, Key=STATE_KEY)["Body"].read() == state_before
    head = aws.client("s3").head_object(Bucket=bucket, Key=HEALTH_KEY)
    assert head["ContentType"].startswith("application/json") and "s-maxage=" in head["CacheControl"]


def test_a_heartbeat_in_a_catalogue_batch_is_kept_out_of_every_public_document(
    bucket: str, lambda_context: Any
) -> None:
    response = publish.handler({"Records": [model(1, "Alpha"), beat(2), model(3, "Beta")]}, lambda_context)
    assert response == {"batchItemFailures": []}
    doc = read_site_json("llms.json")
    assert [m["model_name"] for m in doc["models"]] == ["Alpha", "Beta"] and doc["version"] == 1
    assert read_site_json(HEALTH_KEY)["heartbeat"]["run_id"] == "run-1"
    assert_heartbeat_nowhere_public()
    events = read_site_json("changes.json")["events"]
    assert {e["model_name"] for e in events} == {"Alpha", "Beta"}


def test_health_json_is_written_after_llms_json(bucket: str, lambda_context: Any) -> None:
    s3 = aws.client("s3")
    real_put = s3.put_object
    order: list[str] = []

    def recording_put(**kwargs: Any) -> Any:
        order.append(kwargs["Key"])
        return real_put(**kwargs)

    with mock.patch.object(s3, "put_object", side_effect=recording_put):
        publish.handler({"Records": [model(1, "Alpha"), beat(2)]}, lambda_context)
    # Only the day's dated snapshot (publisher/dated_snapshots.py, a copy of that llms.json) may
    # come between the catalogue and the heartbeat.
    after = order[order.index("llms.json") + 1:]
    assert after[-1] == HEALTH_KEY and all(k.startswith("snapshots/") for k in after[:-1]), order
    assert "llms.json" not in after


def test_an_older_heartbeat_never_overwrites_a_newer_one(bucket: str, lambda_context: Any) -> None:
    publish.handler({"Records": [beat(5, run_id="newer", at="2026-01-02T03:04:06.000Z")]}, lambda_context)
    publish.handler({"Records": [beat(4, run_id="older")]}, lambda_context)
    assert read_site_json(HEALTH_KEY)["heartbeat"]["run_id"] == "newer"
    publish.handler({"Records": [beat(4, run_id="older"), beat(6, run_id="newest")]}, lambda_context)
    assert read_site_json(HEALTH_KEY)["heartbeat"]["run_id"] == "newest"


def test_a_heartbeat_before_any_publish_creates_no_catalogue(bucket: str, lambda_context: Any) -> None:
    publish.handler({"Records": [beat(1)]}, lambda_context)
    assert read_site_json(HEALTH_KEY)["heartbeat"]["run_id"] == "run-1"
    with pytest.raises(ClientError):
        aws.client("s3").head_object(Bucket=bucket, Key="llms.json")


def test_a_failed_publish_never_moves_health_json(bucket: str, lambda_context: Any) -> None:
    publish.handler({"Records": [beat(1, run_id="before")]}, lambda_context)
    s3 = aws.client("s3")
    real_put = s3.put_object

    def failing_put(**kwargs: Any) -> Any:
        if kwargs["Key"] == "llms.json":
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")
        return real_put(**kwargs)

    batch = {"Records": [model(2, "Alpha"), beat(3, run_id="during")]}
    with mock.patch.object(s3, "put_object", side_effect=failing_put):
        response = publish.handler(batch, lambda_context)
    assert len(response["batchItemFailures"]) == 2
    assert read_site_json(HEALTH_KEY)["heartbeat"]["run_id"] == "before", "the canary must see the stall"

    # The state was committed before the write failed; a heartbeat alone heals the site first.
    with mock.patch.object(s3, "put_object", side_effect=failing_put):
        assert len(publish.handler({"Records": [beat(4, run_id="stuck")]}, lambda_context)["batchItemFailures"]) == 1
    assert read_site_json(HEALTH_KEY)["heartbeat"]["run_id"] == "before"
    publish.handler({"Records": [beat(5, run_id="after")]}, lambda_context)
    assert [m["model_name"] for m in read_site_json("llms.json")["models"]] == ["Alpha"]
    assert read_site_json(HEALTH_KEY)["heartbeat"]["run_id"] == "after"


def test_an_invalid_heartbeat_is_logged_counted_and_not_published(
    bucket: str, lambda_context: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    publish.handler({"Records": [beat(1, run_id="good")]}, lambda_context)
    capsys.readouterr()
    publish.handler({"Records": [beat(2, run_id="bad id!"), model(3, "Alpha")]}, lambda_context)
    assert read_site_json(HEALTH_KEY)["heartbeat"]["run_id"] == "good"
    warnings = [r for r in caplog.records if "invalid item" in r.getMessage()]
    assert [(r.model_name, "run_id" in r.reason) for r in warnings] == [(HEARTBEAT_KEY, True)]
    from tests.integration.test_publish_handler import emf_metrics

    assert emf_metrics(capsys.readouterr().out)["InvalidRecords"] == 1


def test_a_rebuild_skips_the_heartbeat_item_quietly(
    table: str, bucket: str, lambda_context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ddb = aws.client("dynamodb")
    seed(ddb, "llm_scores", sample_models())
    ddb.put_item(TableName="llm_scores", Item={k: serialize(v) for k, v in {
        "model_name": HEARTBEAT_KEY, "run_id": "r", "written_at": "2026-01-02T03:04:05.678Z"}.items()})
    result = publish.handler(load_event("rebuild"), lambda_context)
    assert result["invalid"] == 0 and result["drift"] == len(sample_models())
    assert_heartbeat_nowhere_public()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "invalid" in r.getMessage()]
    with pytest.raises(ClientError):
        aws.client("s3").head_object(Bucket=bucket, Key=HEALTH_KEY)  # only the stream publishes heartbeats


def test_the_read_apis_dynamodb_fallback_never_serves_the_heartbeat(
    table: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ddb = aws.client("dynamodb")
    seed(ddb, "llm_scores", sample_models()[:3])
    ddb.put_item(TableName="llm_scores", Item={k: serialize(v) for k, v in {
        "model_name": HEARTBEAT_KEY, "run_id": "r", "written_at": "2026-01-02T03:04:05.678Z"}.items()})
    read.reset()
    bodies = []
    for path, query in (("/llms.json", ""), ("/llms", ""), ("/api/llms", ""), ("/api/llms", "q=canary"),
                        ("/api/providers", "")):
        response = read.handler({"version": "2.0", "rawPath": path, "rawQueryString": query, "headers": {},
                                 "requestContext": {"http": {"method": "GET", "path": path}}}, None)
        assert response["statusCode"] == 200, (path, response["body"][:200])
        assert response["headers"].get("X-Snapshot-Source") == "dynamodb"
        bodies.append(response["body"])
    assert all(HEARTBEAT_KEY not in body for body in bodies)
    assert json.loads(bodies[0])["count"] == 3
    read.reset()


def test_the_reserved_name_is_refused_as_a_model() -> None:
    from publisher.core.model import InvalidItem, to_record
    from publisher.ops.seed import SeedError, validate

    with pytest.raises(InvalidItem, match="reserved"):
        to_record({"model_name": HEARTBEAT_KEY, "provider": "P", "score": Decimal(1)})
    with pytest.raises(SeedError, match="reserved"):
        validate([{"model_name": HEARTBEAT_KEY, "provider": "P", "score": Decimal(1)}])


def test_failed_and_malformed_records_are_logged_with_keys_and_sequences(
    bucket: str, lambda_context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    publish.handler(load_event("stream_malformed"), lambda_context)
    (line,) = [r for r in caplog.records if r.getMessage() == "malformed stream records"]
    assert line.count == 1 and line.first_sequence == line.last_sequence == "000000000000000000031"
    assert [(r["key"], r["sequence"]) for r in line.records] == [("Broken", "000000000000000000031")]
    assert line.records[0]["reason"]

    s3 = aws.client("s3")
    error = ClientError({"Error": {"Code": "SlowDown", "Message": "x"}}, "GetObject")
    event = load_event("stream_insert_poc")
    with mock.patch.object(s3, "get_object", side_effect=error):
        publish.handler(event, lambda_context)
    (failed,) = [r for r in caplog.records if r.getMessage().startswith("publish failed")]
    sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    assert failed.count == 4 and (failed.first_sequence, failed.last_sequence) == (min(sequences), max(sequences))
    assert {r["key"] for r in failed.records} == {"GPT-4", "Claude 3 Opus", "Llama 3 70B", "Gemini 1.5 Pro"}


def test_a_failed_batch_logs_at_most_100_records_but_its_whole_range() -> None:
    records = [stream_record("INSERT", 1000 + i, f"Model {i}", {"model_name": f"Model {i}", "provider": "P",
                                                                 "score": Decimal(1)}) for i in range(150)]
    records.reverse()  # the range comes from the sequence numbers, not from the order of the batch
    line = publish.failed_records(records)
    assert (line["count"], len(line["records"]), line["truncated"]) == (150, publish.MAX_LOGGED_RECORDS, True)
    assert publish.MAX_LOGGED_RECORDS == 100
    assert (line["first_sequence"], line["last_sequence"]) == ("1000".rjust(21, "0"), "1149".rjust(21, "0"))
    assert line["records"][0] == {"key": "Model 149", "sequence": "1149".rjust(21, "0")}
    assert publish.failed_records(records[:3])["truncated"] is False
