"""Both Lambda handlers against moto, as a consumer relies on them: identity, versions, schemas, migration."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from publisher.core import aws, schemas
from publisher.core.identity import history_key, key, provider_key
from publisher.publish import handler as publish
from publisher.publish.store import SiteStore
from publisher.read import handler as read
from tests.conftest import TEST_BUCKET, read_history, read_site_json, stream_record

TWINS = [("Twin A", "TwinCo"), ("twin-a", "twinco"), ("TWIN_A", "Twin Co")]


@pytest.fixture
def handlers(table: str, bucket: str, lambda_context: Any) -> Any:
    publish.reset()
    read.reset()
    yield lambda event: publish.handler(event, lambda_context)
    read.reset()


def api(path: str, method: str = "GET") -> tuple[int, dict[str, str], Any]:
    raw_path, _, query = path.partition("?")
    event = {"version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": query,
             "headers": {}, "requestContext": {"http": {"method": method, "path": raw_path}},
             "isBase64Encoded": False}
    response = read.handler(event, None)
    body = json.loads(response["body"]) if response["body"] else None
    return response["statusCode"], response["headers"], body


def valid(definition: str, document: Any) -> None:
    Draft202012Validator(schemas.standalone(definition), format_checker=FormatChecker()).validate(document)


def item(name: str, provider: str, score: float) -> dict[str, Any]:
    return {"model_name": name, "provider": provider, "score": Decimal(str(score))}


def write(sequence: int, name: str, provider: str, score: float) -> dict[str, Any]:
    """Put the item in the table, and return the stream record the write gives."""
    from publisher.core.ddb import serialize

    aws.client("dynamodb").put_item(TableName="llm_scores", Item=serialize(item(name, provider, score))["M"])
    return stream_record("INSERT", sequence, name, new=item(name, provider, score))


def test_three_models_whose_names_slug_alike_keep_their_own_lookup_and_history_through_adds_and_updates(
        handlers: Any) -> None:
    sequence = 0
    for round_, base in enumerate((50.0, 60.0, 70.0)):
        records = []
        for i, (name, provider) in enumerate(TWINS):
            sequence += 1
            old = None if round_ == 0 else item(name, provider, base - 10 + i)
            records.append(stream_record("INSERT" if old is None else "MODIFY", sequence, name,
                                         new=item(name, provider, base + i), old=old))
        assert handlers({"Records": records}) == {"batchItemFailures": []}

    keys = {history_key(name) for name, _ in TWINS} | {provider_key(p) for _, p in TWINS}
    assert len(keys) == 6
    for i, (name, provider) in enumerate(TWINS):
        history = read_history(name)
        status, _, served = api(f"/{quote(history_key(name))}")
        assert (status, served) == (200, history)
        valid("History", history)
        assert history["model_name"] == name and {e["model_name"] for e in history["events"]} == {name}
        assert [e["kind"] for e in history["events"]] == ["changed", "changed", "added"]
        assert [e["new"] for e in history["events"] if e["kind"] == "changed"] == [70.0 + i, 60.0 + i]
        provider_doc = read_site_json(provider_key(provider))
        valid("ProviderDocument", provider_doc)
        assert provider_doc["provider"] == provider and [m["model_name"] for m in provider_doc["models"]] == [name]
        status, _, model = api(f"/api/llms/{quote(name, safe='')}")
        assert (status, model["model_name"], model["score"]) == (200, name, 70.0 + i)
        status, _, served = api(f"/api/llms/{quote(name, safe='')}/history")
        assert status == 200 and served == history
    # The shared slug is ambiguous, so it resolves to none of them, and says which exist.
    status, headers, answer = api("/api/llms/twin.a")
    assert status == 300 and headers["Cache-Control"] == "no-store"
    assert {c["name"] for c in answer["candidates"]} == {name for name, _ in TWINS}


def test_a_cold_read_lambda_with_llms_json_deleted_after_several_publishes_never_answers_an_older_version(
        handlers: Any) -> None:
    for sequence in range(1, 7):
        handlers({"Records": [write(sequence, f"Model {sequence}", "Acme", 50 + sequence)]})
    published = read_site_json("llms.json")["version"]
    assert published == 6
    s3 = aws.client("s3")
    s3.delete_object(Bucket=TEST_BUCKET, Key="llms.json")
    for missing in ("llms.json", "llms"):
        s3.delete_object(Bucket=TEST_BUCKET, Key=missing)
        read.reset()  # a fresh instance: it has seen no snapshot
        status, headers, document = api("/llms.json")
        assert status == 200 and headers["X-Snapshot-Source"] == "dynamodb"
        assert document["version"] == published and headers["X-Snapshot-Version"] == str(published)
        assert document["fallback"]["reason"] == "snapshot_missing"
        valid("Catalogue", document)
        assert document["count"] == 6
        status, _, health = api("/api/health")
        assert health["version"] == published and health["fallback"]["source"] == "dynamodb"
        status, _, page = api("/api/llms?min_version=6")
        assert status == 200 and page["version"] == published


def test_every_api_answer_validates_against_the_schema_the_openapi_document_names(handlers: Any) -> None:
    from publisher.read.openapi import document as openapi_document

    handlers({"Records": [stream_record("INSERT", 1, "GPT-4", new=item("GPT-4", "OpenAI", 95.5))]})
    paths = openapi_document()["paths"]
    for path, template in [("/api/llms?limit=5", "/api/llms"), ("/api/llms/GPT-4", "/api/llms/{model_name}"),
                           ("/api/llms/GPT-4/history", "/api/llms/{model_name}/history"),
                           ("/api/providers", "/api/providers"), ("/api/health", "/api/health"),
                           ("/llms.json", "/llms.json"), ("/llms", "/llms"),
                           ("/providers/openai.json", "/providers/{file}"), ("/history/gpt-4.json", "/history/{file}"),
                           ("/api/llms/Nobody", None), ("/api/llms?limit=0", None)]:
        status, _, body = api(path)
        if template is None:
            assert status in (400, 404)
            valid("Error", body)
            continue
        assert status == 200, (path, body)
        ref = paths[template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        valid(ref.rsplit("/", 1)[1], body)


def test_a_rebuild_moves_history_objects_of_the_old_layouts_into_the_shards_once(handlers: Any) -> None:
    handlers({"Records": [write(i + 1, name, "Acme", 80 + i) for i, name in enumerate(["Twin A", "twin-a", "GPT-4"])]})
    s3 = aws.client("s3")

    def event(name: str, version: int, n: int) -> dict[str, Any]:
        return {"id": f"{version}-{n:016x}", "version": version, "at": "2024-01-01T00:00:00Z", "kind": "changed",
                "model_name": name, "slug": "twin-a", "field": "score", "old": 1.0, "new": 2.0,
                "sequence": str(n)}

    # Before unique keys: one object per slug, shared by names that slug alike; then one per key.
    shared = {"schema_version": 1, "model_name": "Twin A", "slug": "twin-a", "model_names": ["Twin A", "twin-a"],
              "events": [event("Twin A", 1, 1), event("twin-a", 1, 2)]}
    s3.put_object(Bucket=TEST_BUCKET, Key="history/twin-a.json", Body=json.dumps(shared).encode())
    s3.put_object(Bucket=TEST_BUCKET, Key=history_key("GPT-4"),
                  Body=json.dumps({"model_name": "GPT-4", "events": [event("GPT-4", 1, 3)]}).encode())

    handlers({"action": "rebuild", "reason": "test"})
    for name, legacy_id in (("Twin A", 1), ("twin-a", 2), ("GPT-4", 3)):
        history = read_history(name)
        valid("History", history)
        assert {e["model_name"] for e in history["events"]} == {name}
        assert f"1-{legacy_id:016x}" in {e["id"] for e in history["events"]}
        assert "added" in {e["kind"] for e in history["events"]}  # the events since: both kept
        assert all(e["slug"] == key(name) for e in history["events"])
    # The old objects are gone: their URLs are answered by the read API from the shards.
    assert "Contents" not in s3.list_objects_v2(Bucket=TEST_BUCKET, Prefix="history/")
    for path, name in (("/history/gpt-4.json", "GPT-4"), (f"/{history_key('Twin A')}", "Twin A")):
        status, _, served = api(path)
        assert (status, served) == (200, read_history(name))

    # Done once: a later old-layout object (there can be none) is left alone by the next rebuild.
    s3.put_object(Bucket=TEST_BUCKET, Key="history/stray.json", Body=b"{}")
    handlers({"action": "rebuild", "reason": "test"})
    assert s3.get_object(Bucket=TEST_BUCKET, Key="history/stray.json")["Body"].read() == b"{}"


def test_old_slug_named_provider_files_are_removed_so_their_urls_reach_the_resolver(handlers: Any) -> None:
    handlers({"Records": [stream_record("INSERT", 1, "GPT-4", new=item("GPT-4", "OpenAI", 95.5))]})
    store = SiteStore(aws.client("s3"), TEST_BUCKET)
    state, etag = store.load_state()
    # The state of a publisher from before unique keys named provider files by slug.
    state.extra["provider_slugs"] = ["openai"]
    store.save_state(state, etag)
    aws.client("s3").put_object(Bucket=TEST_BUCKET, Key="providers/openai.json", Body=b'{"old": true}',
                                Metadata={"snapshot-version": "1"})
    handlers({"Records": [stream_record("INSERT", 2, "o1", new=item("o1", "OpenAI", 90.0))]})
    with pytest.raises(aws.client("s3").exceptions.ClientError):
        aws.client("s3").head_object(Bucket=TEST_BUCKET, Key="providers/openai.json")
    status, headers, document = api("/providers/openai.json")
    assert status == 200 and document["provider"] == "OpenAI" and document["count"] == 2
    assert headers["Link"] == f'</{provider_key("OpenAI")}>; rel="canonical"'
