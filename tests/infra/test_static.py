"""Static proof of infra/: formatted, valid, checkov-clean, and the workflows lint clean."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import require_tool

from .conftest import INFRA, REPO

pytestmark = pytest.mark.infra


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 180) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}"
    return proc.stdout


def test_terraform_is_formatted(terraform: str, tf_env: dict[str, str]) -> None:
    run([terraform, "fmt", "-check", "-recursive", "-diff", "-no-color"], INFRA, tf_env)


@pytest.mark.parametrize("root", ["infra", "infra/bootstrap"])
def test_terraform_init_and_validate(root: str, terraform: str, tf_env: dict[str, str],
                                     scratch_copy: Callable[[Path], Path]) -> None:
    workdir = scratch_copy(REPO / root)
    # -lockfile=readonly: the committed lock file must already cover the provider in use.
    init = [terraform, "init", "-backend=false", "-input=false", "-no-color", "-lockfile=readonly"]
    run(init, workdir, tf_env)
    assert "Success" in run([terraform, "validate", "-no-color"], workdir, tf_env)


def test_checkov_has_no_failed_checks() -> None:
    checkov = require_tool("checkov", str(REPO / ".venv-checkov" / "bin" / "checkov"))
    proc = subprocess.run(
        [checkov, "-d", str(INFRA), "--framework", "terraform", "--compact", "--quiet", "--skip-download",
         "--output", "cli"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"checkov found failed checks:\n{proc.stdout[-8000:]}\n{proc.stderr[-2000:]}"
    summary = re.search(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", proc.stdout)
    assert summary, proc.stdout[-2000:]
    assert int(summary.group(2)) == 0
    assert int(summary.group(1)) > 100  # it really scanned the stack


def test_every_checkov_skip_gives_a_reason() -> None:
    skips = [
        (path.relative_to(REPO), line.strip())
        for path in INFRA.rglob("*.tf")
        for line in path.read_text().splitlines()
        if "checkov:skip=" in line
    ]
    assert skips
    reasoned = re.compile(r"checkov:skip=CKV2?_AWS_\d+:\S.{20,}")
    bare = [(str(p), line) for p, line in skips if not reasoned.search(line)]
    assert not bare, f"checkov skips without a reason: {bare}"


def test_workflows_pass_actionlint() -> None:
    actionlint = require_tool("actionlint", str(REPO / ".venv" / "bin" / "actionlint"))
    workflows = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
    assert workflows
    run([actionlint, "-no-color", *map(str, workflows)], REPO)


def test_workflows_have_no_zizmor_findings() -> None:
    """zizmor (offline, pedantic persona): pinned actions, no persisted credentials, no injection."""
    zizmor = require_tool("zizmor", str(REPO / ".venv" / "bin" / "zizmor"))
    proc = subprocess.run(
        [zizmor, "--offline", "--persona=pedantic", "--format=json", str(REPO / ".github" / "workflows")],
        capture_output=True, text=True, timeout=120,
    )
    findings = json.loads(proc.stdout or "[]")
    assert not findings, [(f["ident"], f["desc"]) for f in findings]
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_every_action_is_pinned_to_a_commit_with_its_tag() -> None:
    uses = [line.strip() for path in (REPO / ".github" / "workflows").glob("*.y*ml")
            for line in path.read_text().splitlines() if line.strip().startswith(("- uses:", "uses:"))]
    assert uses
    pinned = re.compile(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
    assert [u for u in uses if not pinned.search(u)] == []


def test_the_triggers_record_age_is_the_reconcile_interval() -> None:
    """A record the trigger gives up on waits for the next reconcile: the two bounds are one decision."""
    from .test_emulator_apply import variable_default

    schedule = str(variable_default("reconcile_schedule_expression"))
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours)\)", schedule)
    assert match, "the reconcile schedule is a rate() expression"
    interval = int(match[1]) * (60 if match[2].startswith("minute") else 3600)
    assert variable_default("stream_max_record_age_seconds") == interval
