"""The main stack's state, which the plan role (any same-repo pull request) reads, holds no e-mail address:
the stack declares no topic subscription and no variable an address could arrive through, an older
deployment forgets its subscriptions without unsubscribing anyone, and CI passes no address to Terraform."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest
from hcl2.api import SerializationOptions

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
FORMER_SUBSCRIPTIONS = {f"aws_sns_topic_subscription.{name}" for name in
                        ("alarm_email", "edge_alarm_email", "ticket_email", "edge_ticket_email")}


def _main_stack() -> list[tuple[Path, dict]]:
    """Every .tf file of the main stack (infra/ and its modules; not the bootstrap, which has its own state)."""
    files = [*INFRA.glob("*.tf"), *INFRA.glob("modules/**/*.tf")]
    assert len(files) > 5, files
    return [(path, hcl2.loads(path.read_text(), serialization_options=OPTIONS)) for path in files]


def test_the_main_stack_declares_no_subscription_and_no_address_variable() -> None:
    for path, parsed in _main_stack():
        types = {kind for block in parsed.get("resource", []) for kind in block}
        assert "aws_sns_topic_subscription" not in types, path
        variables = {name for block in parsed.get("variable", []) for name in block}
        assert not {name for name in variables if re.search("e-?mail|endpoint|subscri", name)}, (path, variables)


def test_an_older_deployment_forgets_its_subscriptions_without_destroying_them() -> None:
    parsed = hcl2.loads((INFRA / "moved.tf").read_text(), serialization_options=OPTIONS)
    removed = {block["from"].removeprefix("${").removesuffix("}"): block for block in parsed.get("removed", [])}
    assert set(removed) == FORMER_SUBSCRIPTIONS
    for block in removed.values():
        lifecycle = block["lifecycle"][0] if isinstance(block["lifecycle"], list) else block["lifecycle"]
        assert lifecycle["destroy"] in (False, "false")


def test_ci_passes_no_address_to_terraform() -> None:
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert not re.search(r"TF_VAR_\w*(email|endpoint)", text, re.IGNORECASE)
