"""Terraform-tier fixtures: tools (skip loudly or fail per LLM_REQUIRE_TOOLS), scratch copies, a stack."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REQUIRE_TOOLS, require_tool

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
SCRIPTS = REPO / "scripts"
APPLY_LOG = "apply.tf.log"


def load_script(name: str) -> ModuleType:
    """scripts/ holds CLIs, not a package: import one by path."""
    spec = importlib.util.spec_from_file_location(f"_script_{name}", SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def require_module(name: str) -> None:
    try:
        importlib.import_module(name)
    except ImportError:
        message = f"python module {name} is not installed (pip install -e '.[dev]')"
        if os.environ.get(REQUIRE_TOOLS) == "1":
            pytest.fail(f"{REQUIRE_TOOLS}=1 but {message}")
        pytest.skip(f"SKIPPED LOUDLY: {message}")


@pytest.fixture(scope="session")
def terraform() -> str:
    return require_tool("terraform")


@pytest.fixture(scope="session")
def tf_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform: the offline provider mirror where this machine has one."""
    env = load_script("infra_local").terraform_env(tmp_path_factory.mktemp("tf-cli"))
    env.pop("AWS_ENDPOINT_URL", None)
    return env


@pytest.fixture(scope="session")
def scratch_copy(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """A copy of one Terraform root (its *.tf, lock file and local modules) so tests never write into infra/."""

    def copy(source: Path) -> Path:
        target = tmp_path_factory.mktemp(source.name)
        for path in [*source.glob("*.tf"), *source.glob("*.json"), *source.glob(".terraform.lock.hcl")]:
            shutil.copy2(path, target / path.name)
        if (source / "modules").is_dir():
            shutil.copytree(source / "modules", target / "modules")
        return target

    return copy


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An emulator of our own on a free port (other test runs may be using theirs)."""
    require_module("moto.server")
    from publisher.local.emulator import free_port, start_emulator

    log = tmp_path_factory.mktemp("moto") / "moto.log"
    try:
        emulator = start_emulator("127.0.0.1", free_port(), reuse=False, log_path=log)
    except RuntimeError as exc:
        pytest.fail(f"moto server did not start ({exc}): {log.read_text()[-2000:]}")
    with emulator:
        yield emulator.endpoint


@dataclass(frozen=True)
class LocalStack:
    endpoint: str
    outputs: dict[str, Any]
    apply_seconds: float
    workdir: Path
    dist: Path

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return emulator_client(self.endpoint, service, region)


def emulator_client(endpoint: str, service: str, region: str = "us-east-1") -> Any:
    """A boto3 client of the emulator at `endpoint`, with its throwaway credentials."""
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="session")
def local_stack(terraform: str, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> LocalStack:
    """`infra/` applied to the emulator exactly as `make infra-local` does it (zips built fresh)."""
    dist = tmp_path_factory.mktemp("dist")
    load_script("package").build(dist, REPO / ".local" / "wheels", powertools_layer=False)
    workdir = tmp_path_factory.mktemp("infra-local")
    # The provider's debug log of the apply: tests/infra/test_pipeline_roles.py evaluates its calls.
    env = {**os.environ, "TF_LOG": "DEBUG", "TF_LOG_PATH": str(workdir / APPLY_LOG)}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "infra_local.py"), "--endpoint", moto_endpoint,
         "--workdir", str(workdir), "--dist", str(dist), "--no-start", "--fresh", "--quiet"],
        capture_output=True, text=True, timeout=420, env=env,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"make infra-local failed:\n{proc.stderr[-8000:]}"
    print(f"\ninfra-local apply to moto took {elapsed:.1f} s")
    return LocalStack(moto_endpoint, json.loads(proc.stdout), elapsed, workdir, dist)
