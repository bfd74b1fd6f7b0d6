"""An existing deployment moves into infra/modules/function: `terraform plan` moves each function's
log group, role, policy and function (infra/moved.tf) and creates or destroys none of them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from .conftest import INFRA, SCRIPTS, LocalStack, load_script
from .iam_check import function_handlers

pytestmark = pytest.mark.infra

MODULE_RESOURCES = ("aws_cloudwatch_log_group.this", "aws_iam_role.this", "aws_iam_role_policy.this",
                    "aws_lambda_function.this")


def moved_blocks() -> dict[str, str]:
    """to -> from, as infra/moved.tf declares them."""
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    parsed = hcl2.loads((INFRA / "moved.tf").read_text(), serialization_options=options)
    bare = {block["to"]: block["from"] for block in parsed["moved"]}
    def address(ref: str) -> str:
        return ref.removeprefix("${").removesuffix("}")

    return {address(to): address(old) for to, old in bare.items()}


def test_every_resource_of_every_function_module_has_its_old_address() -> None:
    moved = moved_blocks()
    expected = {f"module.{fn}.{r}": f"{r.split('.')[0]}.{fn}" for fn in function_handlers() for r in MODULE_RESOURCES}
    assert moved == expected
    module_text = (INFRA / "modules" / "function" / "main.tf").read_text()
    assert {line.split('"')[1] + ".this" for line in module_text.splitlines()
            if line.startswith("resource ")} == set(MODULE_RESOURCES)


def test_a_deployment_of_the_layout_before_the_module_plans_moves_not_replacements(
    local_stack: LocalStack, terraform: str, tmp_path: Path
) -> None:
    # The stack as it stood before the module: the same resources at their old addresses.
    workdir = tmp_path / "before-module"
    shutil.copytree(local_stack.workdir, workdir, symlinks=True)
    env = load_script("infra_local").terraform_env(tmp_path / "tf-cli")
    for new, old in moved_blocks().items():
        subprocess.run([terraform, "state", "mv", "-no-color", new, old], cwd=workdir, check=True,
                       capture_output=True, text=True, env=env)
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "infra_local.py"), "--endpoint", local_stack.endpoint, "--workdir",
         str(workdir), "--dist", str(local_stack.dist), "--no-start", "--plan", "--quiet"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-8000:]
    changes: dict[str, dict[str, Any]] = {c["address"]: c for c in json.loads(proc.stdout)["resource_changes"]}
    for new, old in moved_blocks().items():
        change = changes[new]
        assert change.get("previous_address") == old, (new, change.get("previous_address"))
        assert "create" not in change["change"]["actions"] and "delete" not in change["change"]["actions"], (
            new, change["change"]["actions"])
    assert not [a for a, c in changes.items() if {"create", "delete"} & set(c["change"]["actions"])]
