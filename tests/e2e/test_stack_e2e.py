"""The local stack end to end: writes through the emulator show up at the edge within seconds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import REPO, RunningStack

POC = {
    "GPT-4": {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5},
    "Claude 3 Opus": {"model_name": "Claude 3 Opus", "provider": "Anthropic", "context_window": 200000,
                      "score": 96.0},
    "Llama 3 70B": {"model_name": "Llama 3 70B", "provider": "Meta", "context_window": 8192, "score": 89.5},
    "Gemini 1.5 Pro": {"model_name": "Gemini 1.5 Pro", "provider": "Google", "context_window": 1000000,
                       "score": 94.8},
}


def _names(stack: RunningStack) -> set[str]:
    return {m["model_name"] for m in stack.get_json("/llms.json")["models"]}


def test_poc_models_are_served_with_their_poc_values(local_stack: RunningStack) -> None:
    doc = local_stack.get_json("/llms.json")
    by_name = {m["model_name"]: m for m in doc["models"]}
    for name, expected in POC.items():
        assert by_name[name] == expected
    bare = {m["model_name"]: m for m in local_stack.get_json("/llms")}
    assert {k: bare[k] for k in POC} == POC
    status, headers, _ = local_stack.get("/llms")
    assert headers["Content-Type"].startswith("application/json")


def test_a_write_through_the_emulator_appears_and_a_delete_disappears(local_stack: RunningStack) -> None:
    ddb = local_stack.client("dynamodb")
    before = local_stack.get_json("/llms.json")["version"]
    ddb.put_item(TableName="llm_scores", Item={"model_name": {"S": "E2E Model"}, "provider": {"S": "E2E Labs"},
                                               "score": {"N": "42.5"}, "context_window": {"N": "4096"}})
    took = local_stack.wait_for(lambda: "E2E Model" in _names(local_stack), timeout=5)
    assert took < 5
    doc = local_stack.get_json("/llms.json")
    assert doc["version"] > before
    model = next(m for m in doc["models"] if m["model_name"] == "E2E Model")
    assert model == {"model_name": "E2E Model", "provider": "E2E Labs", "context_window": 4096, "score": 42.5}
    local_stack.wait_for(lambda: b"E2E Model" in local_stack.get("/")[2], timeout=5)

    ddb.delete_item(TableName="llm_scores", Key={"model_name": {"S": "E2E Model"}})
    local_stack.wait_for(lambda: "E2E Model" not in _names(local_stack), timeout=5)


def test_edge_sends_cache_headers_and_answers_304(local_stack: RunningStack) -> None:
    from publisher.core.identity import provider_key
    from tests.unit.test_render import DOCUMENT_CACHE, directives

    for path in ("/llms.json", "/llms", "/", "/changes.json", "/changes.xml", f"/{provider_key('OpenAI')}"):
        status, headers, _ = local_stack.get(path)
        assert status == 200 and directives(headers["Cache-Control"]) == DOCUMENT_CACHE, path
    # The old slug URL means OpenAI only until a provider named exactly `openai` is published: never cached.
    status, headers, _ = local_stack.get("/providers/openai.json")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    status, headers, body = local_stack.get("/llms.json")
    assert status == 200
    etag = headers["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    status, headers, body = local_stack.get("/llms.json", {"If-None-Match": etag})
    assert status == 304 and body == b""
    status, headers, body = local_stack.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")


def test_the_private_state_is_not_served(local_stack: RunningStack) -> None:
    status, _, _ = local_stack.get("/internal/state.json")
    assert status in (403, 404)


def test_ops_rebuild_from_the_cli_repairs_drift(local_stack: RunningStack) -> None:
    from publisher.core.identity import provider_key

    s3 = local_stack.client("s3")
    s3.delete_object(Bucket=local_stack.bucket, Key=provider_key("OpenAI"))
    result = subprocess.run(
        [sys.executable, "-m", "publisher", "rebuild", "--endpoint", local_stack.endpoint],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["drift"] == 0
    body = s3.get_object(Bucket=local_stack.bucket, Key=provider_key("OpenAI"))["Body"].read()
    assert json.loads(body)["count"] >= 1


def test_runbook_rollback_with_s3_versions_then_rebuild(local_stack: RunningStack) -> None:
    """An older version of llms.json copied over it (by hand, with the S3 API); a rebuild moves forward again."""
    s3 = local_stack.client("s3")
    ddb = local_stack.client("dynamodb")
    ddb.put_item(TableName="llm_scores", Item={"model_name": {"S": "Rollback Probe"}, "provider": {"S": "Ops"},
                                               "score": {"N": "12.5"}})
    local_stack.wait_for(lambda: "Rollback Probe" in _names(local_stack), timeout=5)
    current = local_stack.get_json("/llms.json")["version"]
    versions = s3.list_object_versions(Bucket=local_stack.bucket, Prefix="llms.json")["Versions"]
    older = next(v for v in versions if v["Key"] == "llms.json" and not v["IsLatest"])
    s3.copy_object(Bucket=local_stack.bucket, Key="llms.json", MetadataDirective="COPY",
                   CopySource={"Bucket": local_stack.bucket, "Key": "llms.json", "VersionId": older["VersionId"]})
    local_stack.wait_for(lambda: local_stack.get_json("/llms.json")["version"] < current, timeout=5)

    result = subprocess.run([sys.executable, "-m", "publisher", "rebuild", "--endpoint", local_stack.endpoint],
                            cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    local_stack.wait_for(lambda: local_stack.get_json("/llms.json")["version"] >= current, timeout=5)
    ddb.delete_item(TableName="llm_scores", Key={"model_name": {"S": "Rollback Probe"}})
    local_stack.wait_for(lambda: "Rollback Probe" not in _names(local_stack), timeout=5)


def test_ctrl_c_stops_the_stack_cleanly(tmp_path: Path) -> None:
    from publisher.local.emulator import port_open
    from tests.e2e.conftest import start_stack

    stack = start_stack(tmp_path)
    emulator_port = int(stack.endpoint.rsplit(":", 1)[1])
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=30) == 0
    log = stack.log_path.read_text()
    assert "LLM catalogue local stack is up" in log and "stopped in" in log
    assert "publish:" in log, "each publish is logged in one line"
    assert not port_open("127.0.0.1", emulator_port), "the emulator must stop with the stack"
