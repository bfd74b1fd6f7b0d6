"""`trigger disable|enable` on infra/ as applied to the emulator: the schedules' state and the mapping's, and
a later deploy (a plan of the same configuration) leaves a pause alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from publisher.ops import trigger

from .conftest import SCRIPTS, LocalStack

pytestmark = pytest.mark.infra
PATHS = ("aws_lambda_event_source_mapping.publisher[0]", "aws_scheduler_schedule.reconcile[0]",
         "aws_scheduler_schedule.canary[0]")


def applied_states(local_stack: LocalStack) -> dict[str, str]:
    lam, scheduler = local_stack.client("lambda"), local_stack.client("scheduler")
    arn = lam.get_function_configuration(FunctionName=local_stack.outputs["publisher_function"])["FunctionArn"]
    (mapping,) = lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]
    return {"mapping": mapping["State"],
            **{name: scheduler.get_schedule(Name=f"llm-catalogue-{name}")["State"] for name in ("reconcile", "canary")}}


def plan_changes(local_stack: LocalStack, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """`terraform plan` of the three paths (cheaper than the whole of infra/) against what the emulator holds
    now: the change planned for each."""
    workdir = tmp_path / "redeploy"
    shutil.copytree(local_stack.workdir, workdir, symlinks=True)
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "infra_local.py"), "--endpoint", local_stack.endpoint, "--workdir",
         str(workdir), "--dist", str(local_stack.dist), "--no-start", "--plan", "--quiet",
         *(f"--target={address}" for address in PATHS)],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-8000:]
    changes = {c["address"]: c["change"] for c in json.loads(proc.stdout)["resource_changes"]}
    return {address: changes[address] for address in PATHS}


def test_disable_pauses_every_path_a_deploy_keeps_the_pause_and_enable_resumes(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {"AWS_ENDPOINT_URL": local_stack.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    function = local_stack.outputs["publisher_function"]
    assert applied_states(local_stack) == {"mapping": "Enabled", "reconcile": "ENABLED", "canary": "ENABLED"}
    try:
        for _ in range(2):  # twice in a row: the second finds every path paused and changes nothing
            paused = trigger.deployed(function, None, "Disabled")
            assert not any(s.publishing for s in paused), paused
            assert applied_states(local_stack) == {"mapping": "Disabled", "reconcile": "DISABLED",
                                                   "canary": "DISABLED"}
        # A deploy while paused: the plan must not switch any path back on.
        for address, change in plan_changes(local_stack, tmp_path).items():
            assert change["actions"] == ["no-op"], (address, change)
            assert change["before"]["state"].upper() == "DISABLED", (address, change["before"]["state"])
    finally:
        resumed = trigger.deployed(function, None, "Enabled")
    assert all(s.publishing for s in resumed), resumed
    assert applied_states(local_stack) == {"mapping": "Enabled", "reconcile": "ENABLED", "canary": "ENABLED"}
