"""The publisher Lambda handler against moto: stream batches, bad data, failures, rebuilds."""

from __future__ import annotations

import json
import logging
import threading
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from publisher.core import aws
from publisher.core.config import STATE_KEY
from publisher.ops.seed import sample_models, seed
from publisher.publish import handler as publish
from tests.conftest import load_event, read_site_json, stream_record

POC = [
    {"model_name": "Claude 3 Opus", "provider": "Anthropic", "context_window": 200000, "score": 96.0},
    {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5},
    {"model_name": "Gemini 1.5 Pro", "provider": "Google", "context_window": 1000000, "score": 94.8},
    {"model_name": "Llama 3 70B", "provider": "Meta", "context_window": 8192, "score": 89.5},
]


def emf_metrics(output: str) -> dict[str, float]:
    """Sum of every EMF metric Powertools printed (one JSON blob per flush)."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if not line.startswith("{") or "_aws" not in line:
            continue
        blob = json.loads(line)
        for definition in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = blob[definition["Name"]]
            totals[definition["Name"]] = totals.get(definition["Name"], 0) + (
                sum(value) if isinstance(value, list) else value)
    return totals


def test_poc_items_are_published_with_their_poc_values(bucket: str, lambda_context: Any) -> None:
    response = publish.handler(load_event("stream_insert_poc"), lambda_context)
    assert response == {"batchItemFailures": []}
    doc = read_site_json("llms.json")
    assert doc["version"] == 1 and doc["count"] == 4
    assert doc["models"] == POC
    assert read_site_json("llms") == POC
    head = aws.client("s3").head_object(Bucket=bucket, Key="llms.json")
    assert head["ContentType"].startswith("application/json")
    assert "s-maxage=" in head["CacheControl"]


def test_modify_and_remove_are_applied(bucket: str, lambda_context: Any) -> None:
    publish.handler(load_event("stream_insert_poc"), lambda_context)
    publish.handler(load_event("stream_modify_remove"), lambda_context)
    doc = read_site_json("llms.json")
    assert doc["version"] == 2
    names = [m["model_name"] for m in doc["models"]]
    assert "Llama 3 70B" not in names
    gpt4 = next(m for m in doc["models"] if m["model_name"] == "GPT-4")
    assert gpt4["score"] == 96.1 and gpt4["version"] == "turbo-2024-04-09"
    assert doc["generated_at"] == "2025-11-24T16:01:41Z"


def test_replaying_a_batch_changes_nothing(bucket: str, lambda_context: Any) -> None:
    event = load_event("stream_insert_poc")
    publish.handler(event, lambda_context)
    before = {k: aws.client("s3").get_object(Bucket=bucket, Key=k)["Body"].read() for k in ("llms.json", "llms")}
    publish.handler(event, lambda_context)
    after = {k: aws.client("s3").get_object(Bucket=bucket, Key=k)["Body"].read() for k in ("llms.json", "llms")}
    assert before == after


def test_invalid_items_are_left_out_logged_and_counted(
    bucket: str, lambda_context: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    response = publish.handler(load_event("stream_invalid_items"), lambda_context)
    assert response == {"batchItemFailures": []}
    assert [m["model_name"] for m in read_site_json("llms.json")["models"]] == ["Good One"]
    out = capsys.readouterr().out
    assert emf_metrics(out)["InvalidRecords"] == 4
    reasons = {r.model_name: r.reason for r in caplog.records if "invalid item" in r.getMessage()}
    assert reasons["No Provider"] == "provider is missing"
    assert "between 0 and 100" in reasons["Too High"]
    assert "must be a number" in reasons["Wordy Score"]
    assert "whole number" in reasons["Half Window"]
    assert all("NewImage" not in r.getMessage() and "NewImage" not in str(r.__dict__) for r in caplog.records), \
        "logs must not dump events"


def test_names_with_bidi_overrides_or_zero_width_characters_are_left_out_logged_and_counted(
    bucket: str, lambda_context: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A name that spoofs another on the page ("GPT-4" reversed by U+202E, or with an invisible
    U+200B) is refused at ingest with its reason, counted in InvalidRecords, and blocks no other."""
    event = load_event("stream_invalid_items")
    template = event["Records"][0]
    names = ["Evil \u202e4-TPG", "GPT\u200b-4", "Isolated \u2066x\u2069", "Fine Model"]
    records = []
    for sequence, name in enumerate(names, start=100):
        record = json.loads(json.dumps(template))
        image = {"model_name": {"S": name}, "provider": {"S": "P"}, "score": {"N": "50"}}
        record["dynamodb"].update(Keys={"model_name": {"S": name}}, NewImage=image, SequenceNumber=f"{sequence:021d}")
        record["eventID"] = f"evt-{sequence}"
        records.append(record)
    assert publish.handler({"Records": records}, lambda_context) == {"batchItemFailures": []}
    assert [m["model_name"] for m in read_site_json("llms.json")["models"]] == ["Fine Model"]
    assert emf_metrics(capsys.readouterr().out)["InvalidRecords"] == 3
    reasons = {r.model_name: r.reason for r in caplog.records if "invalid item" in r.getMessage()}
    # Logged with each such character written out, so the log line itself cannot be reordered.
    assert set(reasons) == {"Evil <U+202E>4-TPG", "GPT<U+200B>-4", "Isolated <U+2066>x<U+2069>"}
    assert "U+202E" in reasons["Evil <U+202E>4-TPG"] and "U+200B" in reasons["GPT<U+200B>-4"]
    assert "U+2066" in reasons["Isolated <U+2066>x<U+2069>"]
    assert all("bidi" in reason for reason in reasons.values())


def test_malformed_record_is_reported_and_does_not_block_the_others(bucket: str, lambda_context: Any) -> None:
    response = publish.handler(load_event("stream_malformed"), lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": "000000000000000000031"}]}
    assert sorted(m["model_name"] for m in read_site_json("llms.json")["models"]) == ["Also Fine", "Fine"]


def test_a_failing_s3_write_reports_the_whole_batch_and_loses_nothing(
    bucket: str, lambda_context: Any
) -> None:
    event = load_event("stream_insert_poc")
    s3 = aws.client("s3")
    real_put = s3.put_object
    calls = {"n": 0}

    def failing_put(**kwargs: Any) -> Any:
        if kwargs["Key"] != STATE_KEY:
            calls["n"] += 1
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")
        return real_put(**kwargs)

    with mock.patch.object(s3, "put_object", side_effect=failing_put):
        response = publish.handler(event, lambda_context)
    sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    assert calls["n"] > 0
    assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in sequences]}

    # The trigger retries the same records: everything lands although the state was already committed.
    assert publish.handler(event, lambda_context) == {"batchItemFailures": []}
    assert read_site_json("llms.json")["models"] == POC
    assert read_site_json("llms") == POC


def test_a_failing_state_read_reports_the_batch(bucket: str, lambda_context: Any) -> None:
    event = load_event("stream_insert_poc")
    s3 = aws.client("s3")
    error = ClientError({"Error": {"Code": "SlowDown", "Message": "x"}}, "GetObject")
    with mock.patch.object(s3, "get_object", side_effect=error):
        response = publish.handler(event, lambda_context)
    assert len(response["batchItemFailures"]) == 4


def test_rebuild_scans_every_page_and_repairs_drift(
    table: str, bucket: str, lambda_context: Any, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ddb = aws.client("dynamodb")
    models = sample_models()
    # DynamoDB stops a Scan page at 1 MB (the PoC's silent truncation); moto does not, so small
    # pages stand in for it: the rebuild must follow LastEvaluatedKey to the end.
    monkeypatch.setattr("publisher.core.ddb.SCAN_PAGE_SIZE", 25)
    big = [{"model_name": f"Model {i:04d}", "provider": f"Provider {i % 7}", "score": Decimal(i % 100)}
           for i in range(100)]
    seed(ddb, "llm_scores", models + big)
    pages = []
    aws.client("dynamodb").meta.events.register("after-call.dynamodb.Scan", lambda **kw: pages.append(1))
    result = publish.handler(load_event("rebuild"), lambda_context)
    assert len(pages) >= 5, "the scan should have needed several pages"
    assert result["drift"] == len(models) + len(big)
    doc = read_site_json("llms.json")
    assert doc["count"] == len(models) + len(big)
    assert emf_metrics(capsys.readouterr().out)["DriftRepaired"] == len(models) + len(big)
    again = publish.handler(load_event("rebuild"), lambda_context)
    assert again["drift"] == 0 and read_site_json("llms.json")["version"] == doc["version"]


def test_unknown_event_shape_is_an_error(bucket: str, lambda_context: Any) -> None:
    with pytest.raises(ValueError, match="unknown event"):
        publish.handler({"hello": "world"}, lambda_context)


def test_removed_provider_document_is_deleted(bucket: str, lambda_context: Any) -> None:
    publish.handler({"Records": [stream_record("INSERT", 1, "Solo", new={
        "model_name": "Solo", "provider": "Lonely Labs", "score": Decimal(50)})]}, lambda_context)
    from publisher.core.identity import provider_key

    assert read_site_json(provider_key("Lonely Labs"))["count"] == 1
    publish.handler({"Records": [stream_record("REMOVE", 2, "Solo")]}, lambda_context)
    with pytest.raises(ClientError):
        aws.client("s3").head_object(Bucket=bucket, Key=provider_key("Lonely Labs"))


def test_missing_bucket_config_fails_fast(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> None:
    from publisher.core.config import ConfigError

    monkeypatch.delenv("SITE_BUCKET", raising=False)
    publish.reset()
    logging.getLogger().setLevel(logging.CRITICAL)
    with pytest.raises(ConfigError, match="SITE_BUCKET"):
        publish.handler(load_event("stream_insert_poc"), lambda_context)


def test_publish_lag_counts_applied_records_only(
    bucket: str, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    now = time.time()
    fresh = stream_record("INSERT", 1, "Fresh", new={"model_name": "Fresh", "provider": "P", "score": Decimal(1)},
                          at=now - 3)
    publish.handler({"Records": [fresh]}, lambda_context)
    lag = emf_metrics(capsys.readouterr().out)["PublishLagSeconds"]
    assert 2 <= lag < 60
    publish.handler({"Records": [fresh]}, lambda_context)  # a replay, hours later for all it matters
    assert "PublishLagSeconds" not in emf_metrics(capsys.readouterr().out)


def test_a_redrive_rebuild_keeps_a_model_written_and_published_after_its_scan(
    table: str, bucket: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Game day's crash-loop scenario lost two acknowledged writes this way (issue 24): the DLQ
    redrive's rebuild scanned the table, a new model was written and published through the stream,
    then the rebuild committed its older scan and removed the model from llms.json."""
    from time import time

    ddb = aws.client("dynamodb")
    a = {"model_name": "Model A", "provider": "Lab", "score": Decimal("50")}
    b = {"model_name": "Model B", "provider": "Lab", "score": Decimal("60")}
    seed(ddb, "llm_scores", [a])
    assert publish.handler({"Records": [stream_record("INSERT", 1, "Model A", a, at=time())]},
                           lambda_context) == {"batchItemFailures": []}
    real_scan = publish.scan_items
    scans: list[list[str]] = []

    def scan_then_race(*args: Any) -> list[dict[str, Any]]:
        items = list(real_scan(*args))
        scans.append(sorted(i["model_name"] for i in items))
        if len(scans) == 1:
            # B is acknowledged by DynamoDB and published by another publisher instance (a second
            # Lambda), after the rebuild's scan and before its commit. A thread of its own: the
            # writer's call is no call of this publisher (the least-privilege record goes by frames).
            def writer_and_second_publisher() -> None:
                seed(ddb, "llm_scores", [b])
                publish.publisher.cache_clear()
                answers.append(publish.handler(
                    {"Records": [stream_record("INSERT", 2, "Model B", b, at=time())]}, lambda_context))

            answers: list[Any] = []
            racer = threading.Thread(target=writer_and_second_publisher)
            racer.start()
            racer.join()
            assert answers == [{"batchItemFailures": []}]
        return items

    monkeypatch.setattr(publish, "scan_items", scan_then_race)
    publish.handler(load_event("rebuild"), lambda_context)
    assert scans[0] == ["Model A"], "the race needs a scan that ran before B was written"
    assert [m["model_name"] for m in read_site_json("llms.json")["models"]] == ["Model B", "Model A"]
