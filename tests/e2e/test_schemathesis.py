"""schemathesis at the local edge with the API's own OpenAPI document: no server error, schema conformance."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks, positive_data_acceptance

from publisher.read.openapi import document
from tests.e2e.conftest import RunningStack
from tests.e2e.test_read_api import wait_for_published_snapshot

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
# 10 GET operations x 30 examples (schema-valid and schema-violating mixed), and fewer for HEAD and
# OPTIONS, which answer from the same code, stay around a minute.
MAX_EXAMPLES = {"GET": 30, "HEAD": 10, "OPTIONS": 5}
# The operations are known without a server (the document is built in code), so each is its own test;
# the schema itself is fetched from the running edge, as a client would.
load_all_checks()
# Every built-in check, named explicitly (the CLI's `--checks all`), not whatever the default set is.
ALL_CHECKS = list(CHECKS.get_all())
OPERATIONS = [(method.upper(), path) for path, item in document()["paths"].items() for method in item
              if method.upper() in MAX_EXAMPLES]


@pytest.fixture(scope="module")
def api_schema(local_stack: RunningStack) -> Any:
    wait_for_published_snapshot(local_stack)
    return schemathesis.openapi.from_url(f"{local_stack.edge}/api/openapi.json")


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_conforms_to_its_own_openapi(
    method: str, path: str, api_schema: Any, local_stack: RunningStack
) -> None:
    operation = api_schema[path][method]
    modes = [schemathesis.GenerationMode.POSITIVE]
    if method != "OPTIONS":
        # A CORS preflight is answered from the contract alone, for any path (as S3's CORS rule
        # answers it for any key): there is no input to reject.
        modes.append(schemathesis.GenerationMode.NEGATIVE)
    cases = st.one_of(*(operation.as_strategy(mode) for mode in modes))

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES[method], deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def check(case: Any) -> None:
        # A cursor is a token the server issued: any string matching its schema is well-formed, yet
        # only a real one is valid, so a made-up cursor is rightly a 400, not a rejected valid input.
        # Likewise an as_of instant: any date-time is well-formed, but only one inside the retained
        # history (first version to now) can be read; outside it the 400 names the range.
        excluded = [positive_data_acceptance] if {"cursor", "as_of"} & set(case.query or {}) else []
        case.call_and_validate(base_url=local_stack.edge, timeout=10, checks=ALL_CHECKS, excluded_checks=excluded)

    check()


def test_the_cli_with_all_checks_finds_no_failure(api_schema: Any, local_stack: RunningStack) -> None:
    """The documented command, `schemathesis run <edge>/api/openapi.json --checks all`, run from the
    repository root so it reads schemathesis.toml as a hand run there does: every phase, no failure."""
    cli = Path(sys.executable).parent / "schemathesis"
    done = subprocess.run([str(cli), "run", f"{local_stack.edge}/api/openapi.json", "--checks", "all"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    # Not vacuously: every operation was selected and tested (all but GET of the document it loaded,
    # which schemathesis leaves out), and cases were generated and passed.
    selected = re.search(r"Selected: (\d+)/(\d+)", out)
    tested = re.search(r"Tested: (\d+)", out)
    assert selected and tested and selected.group(1) == selected.group(2) == tested.group(1), out[-3000:]
    assert int(tested.group(1)) == len(OPERATIONS) - 1, out[-3000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", out)
    assert generated and int(generated.group(1)) > 0 and generated.group(1) == generated.group(2), out[-3000:]
