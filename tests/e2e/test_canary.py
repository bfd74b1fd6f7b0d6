"""The freshness canary against the running local stack: `make canary`, its failures, and no heartbeat in public."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest

from publisher.core.heartbeat import HEARTBEAT_KEY
from publisher.core.identity import HISTORY_SHARD_PREFIX, history_key
from tests.e2e.conftest import REPO, RunningStack


def make_canary(stack: RunningStack, tmp_path: Path, args: str = "") -> subprocess.CompletedProcess[str]:
    """`make canary` as a user runs it, pointed at this stack's ports (the venv is the one running the tests)."""
    edge_port, emulator_port = stack.edge.rsplit(":", 1)[1], stack.endpoint.rsplit(":", 1)[1]
    return subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "canary", f"PYTHON={sys.executable}", f"EDGE_PORT={edge_port}",
         f"EMULATOR_PORT={emulator_port}", f"ARGS=--state-file {tmp_path / 'canary.json'} {args}"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )


def run_canary(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", "canary", "--edge", stack.edge, "--endpoint", stack.endpoint,
         "--state-file", "", *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def test_make_canary_prints_freshness_in_seconds_and_passes(local_stack: RunningStack, tmp_path: Path) -> None:
    result = make_canary(local_stack, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"^freshness (\d+\.\d+) s \(heartbeat \w+ visible at ", result.stdout, re.MULTILINE)
    assert match, result.stdout
    assert 0 < float(match.group(1)) < 60
    assert "ok   snapshot" in result.stdout and "ok   api-health" in result.stdout
    saved = json.loads((tmp_path / "canary.json").read_text())
    assert saved["last_version"] == local_stack.get_json("/llms.json")["version"]


def test_make_canary_fails_naming_freshness_over_the_maximum(local_stack: RunningStack, tmp_path: Path) -> None:
    result = make_canary(local_stack, tmp_path, "--max-freshness 0.001")
    assert result.returncode != 0
    assert re.search(r"canary FAILED: freshness: freshness \d+\.\d+ s exceeded the maximum of 0\.001 s "
                     r"\(--max-freshness\)", result.stderr), result.stderr


def test_the_saved_version_belongs_to_one_stack(local_stack: RunningStack, tmp_path: Path) -> None:
    """A restarted `make run` starts again at version 1: another stack's saved version is no failure,
    while a version saved for this same stack is read back (a higher one then fails the run, as
    tests/e2e/test_runbook.py's rollback shows; not run here, as its heartbeat would carry it on)."""
    from publisher.ops.canary import read_last_version

    saved = tmp_path / "canary.json"
    saved.write_text(json.dumps({"stack": "http://127.0.0.1:8000 an earlier stack", "last_version": 10**6}))
    result = make_canary(local_stack, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    this_stack = json.loads(saved.read_text())
    version = local_stack.get_json("/llms.json")["version"]
    assert this_stack["stack"].startswith(local_stack.edge + " ") and this_stack["last_version"] == version
    assert read_last_version(saved, this_stack["stack"]) == version
    assert read_last_version(saved, "http://127.0.0.1:8000 an earlier stack") is None


def test_the_heartbeat_appears_in_no_public_document(local_stack: RunningStack) -> None:
    for _ in range(2):
        assert run_canary(local_stack).returncode == 0
    from tests.unit.test_render import DOCUMENT_CACHE, directives

    status, headers, body = local_stack.get("/health.json")
    assert status == 200
    # The canary measures what readers get: health.json is cached at the edge exactly like llms.json.
    assert directives(headers["Cache-Control"]) == DOCUMENT_CACHE
    health = json.loads(body)
    # As a consumer would: the schema the document names, served by the same edge.
    status, _, schema = local_stack.get(health["$schema"])
    assert status == 200
    jsonschema.Draft202012Validator(json.loads(schema), format_checker=jsonschema.FormatChecker()).validate(health)

    paths = ["/llms.json", "/llms", "/", "/changes.json", "/changes.xml", "/api/llms", "/api/llms?limit=500",
             "/api/llms?q=canary", "/api/providers", "/snapshots/index.json"]
    # The dated copies and the as-of reads (replayed from the private log of versions) too.
    paths += [snapshot["url"] for snapshot in local_stack.get_json("/snapshots/index.json")["snapshots"]]
    paths += [f"/api/llms?limit=500&as_of={health['heartbeat']['written_at']}"]
    paths += [f"/providers/{p['slug']}.json" for p in local_stack.get_json("/api/providers")["items"]]
    models = [m["model_name"] for m in local_stack.get_json("/llms.json")["models"]]
    history = [history_key(name) for name in models]
    paths += [f"/{key}" for key in history]
    paths += [f"/api/llms/{quote(m['model_name'], safe='')}/history"
              for m in local_stack.get_json("/llms.json")["models"][:5]]
    leaks = []
    for path in paths:
        status, _, body = local_stack.get(path)
        assert status == 200, (path, status)
        if HEARTBEAT_KEY.encode() in body or health["heartbeat"]["run_id"].encode() in body:
            leaks.append(path)
    assert leaks == []
    assert history and not [key for key in history if "canary" in key or "heartbeat" in key]
    # Nor in the private history shards the read API serves those documents from.
    s3 = local_stack.client("s3")
    shards = [o["Key"] for o in s3.list_objects_v2(Bucket=local_stack.bucket, Prefix=HISTORY_SHARD_PREFIX)["Contents"]]
    assert shards
    for key in shards:
        body = s3.get_object(Bucket=local_stack.bucket, Key=key)["Body"].read()
        assert HEARTBEAT_KEY.encode() not in body, key
    status, _, _ = local_stack.get(f"/api/llms/{quote(HEARTBEAT_KEY, safe='')}")
    assert status in (400, 404)


def test_the_canary_lambda_handler_publishes_the_sli(
    local_stack: RunningStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from publisher.canary import handler
    from publisher.core import aws
    from publisher.local.emulator import local_aws_env

    for name, value in {**local_aws_env(local_stack.endpoint), "CANARY_BASE_URL": local_stack.edge,
                        "TABLE_NAME": local_stack.table}.items():
        monkeypatch.setenv(name, value)
    aws.reset_clients()
    try:
        summary = handler.handler({}, None)
    finally:
        aws.reset_clients()
    assert summary["ok"] is True, summary
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    (record,) = emf
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LlmCatalogue"
    assert (record["service"], record["CanaryProbes"]) == ("canary", 1)
    assert "CanaryFreshnessBreaches" not in record and "CanaryCheckFailures" not in record
    assert 0 < record["FreshnessSeconds"] < 60
