"""The CloudFront response headers policy (CORS, CSP) proven with `terraform test` on a mocked provider.

The emulator has no response headers policy API, so `make infra-local` references the AWS-managed
CORS policy instead (infra/local/local.auto.tfvars); infra/tests/edge_contract.tftest.hcl applies
the production module to a mocked AWS provider and checks the policy and every behaviour against
publisher/core/edge_contract.json.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from publisher.core.edge_contract import CONTRACT_FILE

from .conftest import INFRA

pytestmark = pytest.mark.infra


def test_terraform_test_proves_the_edge_policy_with_a_mocked_provider(terraform: str, tf_env: dict[str, str],
                                                                       tmp_path: Path) -> None:
    for path in [*INFRA.glob("*.tf"), *INFRA.glob("*.json"), INFRA / ".terraform.lock.hcl"]:
        shutil.copy2(path, tmp_path / path.name)
    shutil.copytree(INFRA / "tests", tmp_path / "tests")
    shutil.copytree(INFRA / "modules", tmp_path / "modules")
    assert list((tmp_path / "tests").glob("*.tftest.hcl"))
    # The zips only need to exist: nothing is deployed.
    placeholder = tmp_path / "placeholder.zip"
    placeholder.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    init = subprocess.run([terraform, "init", "-backend=false", "-input=false", "-no-color", "-lockfile=readonly"],
                          cwd=tmp_path, env=tf_env, capture_output=True, text=True, timeout=180)
    assert init.returncode == 0, init.stdout + init.stderr
    run = subprocess.run(
        [terraform, "test", "-no-color", f"-var=edge_contract_path={CONTRACT_FILE}",
         f"-var=publisher_zip_path={placeholder}", f"-var=read_zip_path={placeholder}",
         f"-var=canary_zip_path={placeholder}"],
        cwd=tmp_path, env=tf_env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-4000:]
    assert "2 passed, 0 failed" in run.stdout
