"""Rollback on the running stack, as an operator runs it: pause, restore to a, publish more, restore to b.

Each restore must leave the site (through the edge) reading exactly that version's content: llms.json's
models, /llms and the provider documents, a provider born after a gone and back again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publisher.core.identity import provider_key
from tests.e2e.conftest import REPO, RunningStack, start_stack, stop_stack

NEWBORN = "Newborn Labs"  # a provider first published after version a


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("restore"))
    try:
        yield running
    finally:
        stop_stack(running)


def ops(stack: RunningStack, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run([sys.executable, "-m", "publisher", *args, "--endpoint", stack.endpoint], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    return result.returncode, result.stdout + result.stderr


def put(stack: RunningStack, name: str, provider: str, score: str) -> None:
    stack.client("dynamodb").put_item(TableName=stack.table, Item={
        "model_name": {"S": name}, "provider": {"S": provider}, "score": {"N": score}})


def published(stack: RunningStack, name: str) -> int:
    """Wait for `name` to be on the site; the version that shows it."""
    stack.wait_for(lambda: name in {m["model_name"] for m in stack.get_json("/llms.json")["models"]}, timeout=15)
    return int(stack.get_json("/llms.json")["version"])


def scores(stack: RunningStack) -> dict[str, float]:
    return {m["model_name"]: m["score"] for m in stack.get_json("/llms.json")["models"]}


def content(stack: RunningStack) -> dict[str, Any]:
    """What the edge serves, once every document shows one version (the edge keeps each for 0.5 s): the
    models of llms.json and /llms, and each provider document's models."""
    seen: dict[str, Any] = {}

    def settled() -> bool:
        doc = stack.get_json("/llms.json")
        documents = {p: stack.get_json(f"/{provider_key(p)}") for p in sorted({m["provider"] for m in doc["models"]})}
        seen.update({"models": doc["models"], "llms": stack.get_json("/llms"),
                     "providers": {p: d["models"] for p, d in documents.items()}})
        return seen["llms"] == doc["models"] and all(d["version"] == doc["version"] for d in documents.values())

    stack.wait_for(settled, timeout=10)
    return seen


def provider_object(stack: RunningStack, provider: str) -> bool:
    s3 = stack.client("s3")
    return "Contents" in s3.list_objects_v2(Bucket=stack.bucket, Prefix=provider_key(provider))


def shows(stack: RunningStack, version_content: dict[str, Any]) -> bool:
    return content(stack) == version_content


def test_restore_to_a_then_to_a_later_b_serves_exactly_each(stack: RunningStack, tmp_path: Path) -> None:
    put(stack, "Restore Alpha", "Restore Co", "77")
    a = published(stack, "Restore Alpha")
    at_a = content(stack)
    put(stack, "Newborn One", NEWBORN, "66")
    put(stack, "GPT-4", "OpenAI", "12.5")
    stack.wait_for(lambda: scores(stack).get("GPT-4") == 12.5 and "Newborn One" in scores(stack), timeout=15)
    b = int(stack.get_json("/llms.json")["version"])
    at_b = content(stack)
    assert b > a and at_b != at_a and provider_object(stack, NEWBORN)

    code, out = ops(stack, "restore", "--version", str(a))
    assert code == 3 and "refused: publishing is not paused" in out, out
    for _ in range(2):  # twice in a row: the second finds it paused already
        code, out = ops(stack, "trigger", "disable")
        assert code == 0 and "stream trigger" in out and "Disabled" in out and "publishing: paused" in out, out

    code, out = ops(stack, "restore", "--version", str(a), "--dry-run")
    assert code == 0 and f"would publish version {a}'s catalogue as version {b + 1}" in out, out
    assert stack.get_json("/llms.json")["version"] == b
    code, out = ops(stack, "restore", "--version", str(a))
    assert code == 0 and f"version {a}'s catalogue published as version {b + 1} (was version {b})" in out, out
    assert provider_key(NEWBORN) in out
    stack.wait_for(lambda: shows(stack, at_a), timeout=10)
    assert not provider_object(stack, NEWBORN)
    assert stack.get(f"/{provider_key(NEWBORN)}")[0] == 404
    assert stack.get_json("/llms.json")["version"] == b + 1  # versions only move forward
    code, out = ops(stack, "restore", "--version", str(a))
    assert code == 0 and "nothing to do" in out, out

    # Publish more (the trigger resumed, and its rebuild puts the table back), then roll back to b.
    code, out = ops(stack, "trigger", "enable")
    assert code == 0 and "publishing: ON" in out and '"drift"' in out, out
    stack.wait_for(lambda: provider_object(stack, NEWBORN), timeout=10)
    put(stack, "Later One", "Later Labs", "55")
    later = published(stack, "Later One")
    assert ops(stack, "trigger", "disable")[0] == 0
    code, out = ops(stack, "restore", "--version", str(b))
    assert code == 0 and f"published as version {later + 1}" in out, out
    stack.wait_for(lambda: shows(stack, at_b), timeout=10)
    assert provider_object(stack, NEWBORN) and not provider_object(stack, "Later Labs")
    put(stack, "GPT-4", "OpenAI", "3")  # a bad write while paused: it waits in the stream
    plan = tmp_path / "good-items.json"
    code, out = ops(stack, "restore", "--version", str(b), "--table-plan", str(plan))
    assert code == 0 and "nothing to do" in out, out

    # The table, the source of truth, is put back to b as the plan says; then resuming publishes b.
    assert "1 item(s) to put back" in out and "1 to delete" in out and '"S": "Later One"' in out, out
    assert [m["model_name"] for m in json.loads(plan.read_text())] == ["GPT-4"]
    seeded = subprocess.run([sys.executable, "scripts/seed_data.py", "--endpoint", stack.endpoint, "--file",
                             str(plan)], cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert seeded.returncode == 0, seeded.stderr
    stack.client("dynamodb").delete_item(TableName=stack.table, Key={"model_name": {"S": "Later One"}})
    code, out = ops(stack, "restore", "--version", str(b), "--table-plan", str(plan))
    assert "0 item(s) to put back" in out and "0 to delete" in out, out
    # A rebuild during the pause would publish the table over the restore: refused.
    code, out = ops(stack, "rebuild")
    assert code == 3 and "publishing is paused" in out, out
    code, out = ops(stack, "trigger", "enable")
    assert code == 0 and '"drift": 0' in out, out
    stack.wait_for(lambda: content(stack) == at_b, timeout=10)
