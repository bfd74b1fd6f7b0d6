"""The consumer contract at the local edge over HTTP: CORS, preflight, HEAD, headers, identity, freshness, schemas."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker

from publisher.core import edge_contract
from publisher.core.documents import VERSION_META
from publisher.core.identity import history_key, provider_key
from tests.e2e.conftest import RunningStack
from tests.e2e.test_read_api import wait_for_published_snapshot

pytestmark = pytest.mark.e2e
ORIGIN = "https://consumer.example"
TWINS = [("Contract Twin", "Contract Co"), ("contract-twin", "contract co"), ("CONTRACT_TWIN", "Contract-Co")]


@pytest.fixture(autouse=True, scope="module")
def _published(local_stack: RunningStack) -> None:
    wait_for_published_snapshot(local_stack)


def public_paths(stack: RunningStack) -> list[str]:
    """One URL of every kind of public document the site and the API serve."""
    snapshot = stack.get_json("/llms.json")
    first = snapshot["models"][0]
    static = [line.split('"')[1] for line in requests.get(stack.edge + "/", timeout=10).text.split()
              if line.startswith('src="/static/')]
    return ["/", "/llms.json", "/llms", "/changes.json", "/changes.xml", f"/{provider_key(first['provider'])}",
            f"/{quote(history_key(first['model_name']))}", snapshot["$schema"], *static,
            "/api/llms?limit=2", f"/api/llms/{quote(first['model_name'], safe='')}", "/api/providers",
            "/api/health", "/api/openapi.json", "/providers/openai.json", "/no/such/object.json"]


def test_every_public_document_and_api_answer_is_readable_from_any_origin(local_stack: RunningStack) -> None:
    for path in public_paths(local_stack):
        response = requests.get(local_stack.edge + path, headers={"Origin": ORIGIN}, timeout=10)
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        exposed = {h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"etag", "x-snapshot-version", "x-amz-meta-snapshot-version"} <= exposed, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/llms.json", "/llms", "/changes.json", "/", "/providers/anything.json",
                                  "/api/llms?provider=Meta", "/api/llms/GPT-4", "/api/health"])
def test_a_cors_preflight_is_answered_2xx_with_the_contracts_headers(local_stack: RunningStack, path: str) -> None:
    response = requests.options(local_stack.edge + path, timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"})
    assert response.status_code == 204 and response.content == b""
    for name, value in edge_contract.preflight_headers().items():
        assert response.headers[name] == value, name


# /api/health is left out: its age changes every second, so two answers never share an ETag.
@pytest.mark.parametrize("path", ["/llms.json", "/llms", "/", "/api/llms?limit=3", "/api/llms/GPT-4",
                                  "/api/providers", "/api/openapi.json", "/providers/openai.json"])
def test_head_answers_like_get_without_a_body(local_stack: RunningStack, path: str) -> None:
    head = requests.head(local_stack.edge + path, timeout=10)
    get = requests.get(local_stack.edge + path, timeout=10)
    assert head.status_code == get.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_the_page_carries_its_csp_and_the_security_headers(local_stack: RunningStack) -> None:
    response = requests.get(local_stack.edge + "/", timeout=10)
    for name, value in edge_contract.security_headers().items():
        assert response.headers[name] == value, name
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert 'http-equiv="Content-Security-Policy"' in response.text


def test_static_objects_say_which_snapshot_version_they_belong_to(local_stack: RunningStack) -> None:
    # In the bucket every object carries the version it belongs to, at least llms.json's once a
    # publish has landed. Through the edge, /llms is the same catalogue as llms.json once each
    # cached copy expires (the edge keeps objects apart, as CloudFront does). The edge's copy of
    # the marker header is not compared: a revalidation of equal bytes (a catalogue back to what it
    # was) is a 304, and a 304 carries no x-amz-meta-* to refresh it.
    s3 = local_stack.client("s3")

    def marker(key: str) -> int:
        return int(s3.head_object(Bucket=local_stack.bucket, Key=key)["Metadata"][VERSION_META])

    def settled() -> bool:
        snapshot = local_stack.get_json("/llms.json")
        return (local_stack.get_json("/llms") == snapshot["models"]
                and all(marker(key) >= snapshot["version"] for key in ("llms", "changes.json")))

    try:
        local_stack.wait_for(settled, timeout=10, interval=0.25)
    except AssertionError:
        raise AssertionError(f"markers in the bucket: { {k: marker(k) for k in ('llms.json', 'llms', 'changes.json')} }"
                             ) from None


@pytest.fixture(scope="module")
def twins(local_stack: RunningStack) -> Iterator[list[tuple[str, str]]]:
    """Three models (and providers) whose names slug alike, added then updated, removed afterwards."""
    ddb = local_stack.client("dynamodb")

    def put(score: float) -> None:
        for i, (name, provider) in enumerate(TWINS):
            ddb.put_item(TableName=local_stack.table, Item={
                "model_name": {"S": name}, "provider": {"S": provider}, "score": {"N": str(score + i)}})

    put(40.0)
    local_stack.wait_for(lambda: {n for n, _ in TWINS} <= names_at_edge(local_stack), timeout=15)
    put(44.0)
    local_stack.wait_for(lambda: scores_at_edge(local_stack, TWINS[0][0]) == 44.0, timeout=15)
    try:
        yield TWINS
    finally:
        for name, _ in TWINS:
            ddb.delete_item(TableName=local_stack.table, Key={"model_name": {"S": name}})
        local_stack.wait_for(lambda: not {n for n, _ in TWINS} & names_at_edge(local_stack), timeout=15)


def names_at_edge(stack: RunningStack) -> set[str]:
    return {m["model_name"] for m in stack.get_json("/llms.json")["models"]}


def scores_at_edge(stack: RunningStack, name: str) -> float | None:
    return next((m["score"] for m in stack.get_json("/llms.json")["models"] if m["model_name"] == name), None)


def test_models_whose_names_slug_alike_each_keep_their_own_lookup_history_and_provider_file(
        local_stack: RunningStack, twins: list[tuple[str, str]]) -> None:
    for i, (name, provider) in enumerate(twins):
        model = local_stack.get_json(f"/api/llms/{quote(name, safe='')}")
        assert (model["model_name"], model["provider"], model["score"]) == (name, provider, 44.0 + i)

        def history_complete(n: str = name) -> bool:
            return len(local_stack.get_json(f"/{quote(history_key(n))}")["events"]) == 2

        local_stack.wait_for(history_complete, timeout=10)
        history = local_stack.get_json(f"/{quote(history_key(name))}")
        assert history["model_name"] == name and {e["model_name"] for e in history["events"]} == {name}
        assert [e["kind"] for e in history["events"]] == ["changed", "added"]
        assert local_stack.get_json(f"/api/llms/{quote(name, safe='')}/history") == history
        provider_doc = local_stack.get_json(f"/{quote(provider_key(provider))}")
        assert (provider_doc["provider"], [m["model_name"] for m in provider_doc["models"]]) == (provider, [name])
    ambiguous = requests.get(local_stack.edge + "/api/llms/contract.twin", timeout=10)
    assert ambiguous.status_code == 300 and ambiguous.headers["Cache-Control"] == "no-store"
    assert {c["name"] for c in ambiguous.json()["candidates"]} == {name for name, _ in twins}
    assert requests.get(local_stack.edge + "/history/contract-twin-.json", timeout=10).status_code == 300


def test_an_old_slug_url_keeps_working_where_it_is_unambiguous(local_stack: RunningStack) -> None:
    response = requests.get(local_stack.edge + "/providers/openai.json", timeout=10)
    assert response.status_code == 200 and response.json()["provider"] == "OpenAI"
    assert response.headers["Link"] == f'</{provider_key("OpenAI")}>; rel="canonical"'
    history = requests.get(local_stack.edge + "/history/claude-3-opus.json", timeout=10)
    assert history.status_code == 200 and history.json()["model_name"] == "Claude 3 Opus"


def test_once_llms_json_shows_a_new_model_the_api_finds_it_without_a_retry(local_stack: RunningStack) -> None:
    ddb = local_stack.client("dynamodb")
    name = "Freshness Contract Probe"
    ddb.put_item(TableName=local_stack.table, Item={
        "model_name": {"S": name}, "provider": {"S": "Probe Labs"}, "score": {"N": "33"}})
    try:
        local_stack.wait_for(lambda: name in names_at_edge(local_stack), timeout=15, interval=0.02)
        version = local_stack.get_json("/llms.json")["version"]
        # The list showed it: the lookup, a filter and min_version all answer from that snapshot or newer.
        lookup = requests.get(f"{local_stack.edge}/api/llms/{quote(name, safe='')}", timeout=10)
        assert lookup.status_code == 200, lookup.text
        pinned = requests.get(f"{local_stack.edge}/api/llms?provider=Probe%20Labs&min_version={version}", timeout=10)
        assert [m["model_name"] for m in pinned.json()["items"]] == [name]
        assert int(pinned.headers["X-Snapshot-Version"]) >= version
    finally:
        ddb.delete_item(TableName=local_stack.table, Key={"model_name": {"S": name}})
        local_stack.wait_for(lambda: name not in names_at_edge(local_stack), timeout=15)
    gone = requests.get(f"{local_stack.edge}/api/llms/{quote(name, safe='')}", timeout=10)
    assert gone.status_code == 404 and gone.headers["Cache-Control"] == "no-store"


def test_versions_never_go_backward_on_any_path_during_a_burst_of_writes(local_stack: RunningStack) -> None:
    ddb = local_stack.client("dynamodb")
    stop = threading.Event()

    def writer() -> None:
        for i in range(40):
            if stop.is_set():
                return
            ddb.put_item(TableName=local_stack.table, Item={
                "model_name": {"S": "Burst Probe"}, "provider": {"S": "Probe Labs"}, "score": {"N": str(i)}})

    thread = threading.Thread(target=writer)
    thread.start()
    seen: dict[str, int] = {}
    try:
        for _ in range(60):
            edge = requests.get(local_stack.edge + "/llms.json", timeout=10)
            versions = {"/llms.json": edge.json()["version"],
                        "/llms": int(requests.get(local_stack.edge + "/llms", timeout=10)
                                     .headers["x-amz-meta-snapshot-version"])}
            pinned = requests.get(f"{local_stack.edge}/api/llms?limit=1&min_version={versions['/llms.json']}",
                                  timeout=10)
            versions["/api/llms (min_version)"] = int(pinned.headers["X-Snapshot-Version"])
            assert versions["/api/llms (min_version)"] >= versions["/llms.json"]
            versions["/api/health"] = requests.get(local_stack.edge + "/api/health", timeout=10).json()["version"]
            for path, version in versions.items():
                assert version >= seen.get(path, 0), f"{path} went back from {seen[path]} to {version}"
                seen[path] = version
    finally:
        stop.set()
        thread.join(30)
        ddb.delete_item(TableName=local_stack.table, Key={"model_name": {"S": "Burst Probe"}})
        local_stack.wait_for(lambda: "Burst Probe" not in names_at_edge(local_stack), timeout=15)


def test_with_llms_json_deleted_the_failover_serves_the_published_version_and_says_so(
        local_stack: RunningStack) -> None:
    published = local_stack.get_json("/llms.json")["version"]
    answers: list[dict[str, Any]] = []

    def failed_over() -> bool:
        # A publish still settling from an earlier test heals a missing llms.json at once: delete
        # it again until the edge has failed over.
        local_stack.client("s3").delete_object(Bucket=local_stack.bucket, Key="llms.json")
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            _, headers, body = local_stack.get("/llms.json")
            if headers.get("X-Snapshot-Source") == "dynamodb":
                answers.append(json.loads(body))
                return True
            time.sleep(0.05)
        return False

    try:
        local_stack.wait_for(failed_over, timeout=20)
        document = answers[-1]
        assert document["version"] >= published and document["fallback"]["reason"] == "snapshot_missing"
    finally:
        subprocess.run([sys.executable, "-m", "publisher", "rebuild", "--endpoint", local_stack.endpoint],
                       capture_output=True, timeout=60, check=True)
    local_stack.wait_for(lambda: local_stack.get("/llms.json")[1].get("X-Snapshot-Source") == "s3", timeout=10)


def test_llms_json_validates_against_its_own_schema_and_a_broken_copy_does_not(
        local_stack: RunningStack, tmp_path: Path) -> None:
    documents = {path: requests.get(local_stack.edge + path, timeout=10).json()
                 for path in ("/llms.json", "/changes.json", f"/{provider_key('OpenAI')}",
                              f"/{quote(history_key('GPT-4'))}")}
    for path, document in documents.items():
        schema_url = urljoin(local_stack.edge + path, document["$schema"])
        schema = requests.get(schema_url, timeout=10)
        assert schema.status_code == 200 and schema.headers["Content-Type"].startswith("application/schema+json")
        Draft202012Validator(schema.json(), format_checker=FormatChecker()).validate(document)
    snapshot = documents["/llms.json"]
    cli = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    schema_url = urljoin(local_stack.edge + "/llms.json", snapshot["$schema"])
    good, bad = tmp_path / "llms.json", tmp_path / "broken.json"
    good.write_text(json.dumps(snapshot))
    broken: dict[str, Any] = json.loads(json.dumps(snapshot))
    broken["models"][0]["score"] = str(broken["models"][0]["score"])
    bad.write_text(json.dumps(broken))
    accepted = subprocess.run([cli, "--schemafile", schema_url, str(good)], capture_output=True, text=True)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    rejected = subprocess.run([cli, "--schemafile", schema_url, str(bad)], capture_output=True, text=True)
    assert rejected.returncode == 1 and "score" in rejected.stdout + rejected.stderr
