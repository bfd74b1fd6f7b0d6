"""Pause and resume against moto: every path that publishes (stream trigger, reconcile, canary) found by
infra/'s names and switched together; restore and rebuild refuse what a pause forbids."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

from publisher.ops import dlq, rebuild, restore, trigger
from tests.conftest import load_event

INFRA = Path(__file__).resolve().parents[2] / "infra"
SCHEDULE = {
    "ScheduleExpression": "rate(1 hour)", "ScheduleExpressionTimezone": "UTC",
    "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
    "Description": "Full rebuild", "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k",
}


@pytest.fixture
def deployed(table: str) -> dict[str, Any]:
    """A publisher function with its stream mapping and the two schedules, named as infra/ names them."""
    import boto3

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
                                                                              "Statement": []}))["Role"]["Arn"]
    lam = boto3.client("lambda")
    function = lam.create_function(FunctionName="llm-catalogue-publisher", Runtime="python3.13", Role=role,
                                   Handler="h.h", Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
    mapping = lam.create_event_source_mapping(FunctionName=function["FunctionArn"], EventSourceArn=table,
                                              StartingPosition="TRIM_HORIZON")
    scheduler = boto3.client("scheduler")
    for name, target in (("llm-catalogue-reconcile", {"action": "rebuild"}), ("llm-catalogue-canary", {})):
        scheduler.create_schedule(Name=name, **SCHEDULE, Target={
            "Arn": function["FunctionArn"], "RoleArn": role, "Input": json.dumps(target),
            "RetryPolicy": {"MaximumEventAgeInSeconds": 900, "MaximumRetryAttempts": 2}})
    return {"function": "llm-catalogue-publisher", "mapping": mapping["UUID"], "scheduler": scheduler, "lambda": lam}


def states(found: list[trigger.PathState]) -> dict[str, str]:
    return {s.path: s.state for s in found}


def test_the_names_it_looks_for_are_the_ones_infra_gives() -> None:
    text = "\n".join(p.read_text() for p in INFRA.glob("*.tf"))
    assert f'publisher_name = "${{var.name}}{trigger.PUBLISHER_SUFFIX}"' in text
    for suffix in trigger.SCHEDULE_SUFFIXES.values():
        assert re.search(rf'name\s+= "\$\{{var\.name\}}{suffix}"', text), suffix


def test_disable_stops_every_path_twice_over_and_enable_restores_each_as_it_was(deployed: dict[str, Any]) -> None:
    scheduler = deployed["scheduler"]
    before = {n: scheduler.get_schedule(Name=n) for n in ("llm-catalogue-reconcile", "llm-catalogue-canary")}

    paused = trigger.deployed(deployed["function"], None, "Disabled")
    assert states(paused) == {"stream trigger": "Disabled", "reconcile schedule": "DISABLED",
                              "canary schedule": "DISABLED"}
    assert not any(s.publishing for s in paused)
    again = trigger.deployed(deployed["function"], None, "Disabled")
    assert states(again) == states(paused)
    assert deployed["lambda"].get_event_source_mapping(UUID=deployed["mapping"])["State"] == "Disabled"

    resumed = trigger.deployed(deployed["function"], None, "Enabled")
    assert states(resumed) == {"stream trigger": "Enabled", "reconcile schedule": "ENABLED",
                               "canary schedule": "ENABLED"}
    for name, was in before.items():  # UpdateSchedule replaces a schedule whole: nothing else may change
        now = scheduler.get_schedule(Name=name)
        assert {k: v for k, v in now.items() if k not in ("LastModificationDate", "ResponseMetadata")} == {
            k: v for k, v in was.items() if k not in ("LastModificationDate", "ResponseMetadata")}


def test_a_missing_schedule_counts_as_paused_and_an_unknown_stack_name_does_not(deployed: dict[str, Any]) -> None:
    deployed["scheduler"].delete_schedule(Name="llm-catalogue-canary")
    found = states(trigger.deployed(deployed["function"], None, "Disabled"))
    assert found["canary schedule"] == trigger.ABSENT
    lam = deployed["lambda"]
    config = lam.get_function_configuration(FunctionName=deployed["function"])
    lam.create_function(FunctionName="renamed", Runtime="python3.13", Role=config["Role"], Handler="h.h",
                        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
    odd = {s.path: s for s in trigger.deployed("renamed", None, None)}
    assert odd["reconcile schedule"].publishing and "pass --name" in odd["reconcile schedule"].where
    assert states(trigger.deployed("renamed", "llm-catalogue", None))["reconcile schedule"] == "DISABLED"
    with pytest.raises(SystemExit, match="no function 'gone'"):
        trigger.deployed("gone", None, None)


def target(**extra: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"function": "llm-catalogue-publisher", "endpoint": "", "name": None,
                                 "table": "llm_scores", "bucket": "b", **extra})


def test_restore_and_rebuild_refuse_while_any_path_publishes(deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    invoked: list[dict[str, Any]] = []
    monkeypatch.setattr(rebuild, "call", lambda function, payload: (invoked.append(payload), (0, "{}"))[1])
    monkeypatch.setattr(rebuild, "invoke",
                        lambda function, payload: invoked.append({"rebuild": payload["reason"]}) or 0)
    deployed["scheduler"].update_schedule(Name="llm-catalogue-canary", **SCHEDULE, State="DISABLED", Target={
        "Arn": "arn:aws:lambda:us-east-1:123456789012:function:c", "RoleArn": "arn:aws:iam::123456789012:role/r"})

    args = target(version=1, dry_run=False, even_if_publishing=False, table_plan=None)
    assert restore.main(args) == restore.REFUSED
    assert "refused: publishing is not paused" in capsys.readouterr().err
    assert rebuild.main(target(reason="ops", while_paused=False)) == 0  # not paused: a rebuild runs
    assert invoked == [{"rebuild": "ops"}]

    trigger.deployed("llm-catalogue-publisher", None, "Disabled")
    assert rebuild.main(target(reason="ops", while_paused=False)) == rebuild.PAUSED
    assert "ops: refused: publishing is paused" in capsys.readouterr().err
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    parked = load_event("dlq_async_invocation")
    sqs.send_message(QueueUrl=queue, MessageBody=parked["Body"], MessageAttributes=parked["MessageAttributes"])
    assert dlq.main(target(queue_url=queue, redrive=True, max_messages=10)) == rebuild.PAUSED  # a redrive rebuilds
    assert "dlq-redrive: refused: publishing is paused" in capsys.readouterr().err
    assert rebuild.main(target(reason="ops", while_paused=True)) == 0
    assert invoked == [{"rebuild": "ops"}, {"rebuild": "ops"}]
    answer = {"restored_version": 1, "from_version": 3, "to_version": 4, "dry_run": False, "nothing_to_do": False,
              "models_added": {"count": 0, "names": []}, "models_removed": {"count": 1, "names": ["Gamma"]},
              "models_changed": {"count": 0, "names": []}, "keys_written": ["llms.json"],
              "keys_removed": ["providers/newco.json"]}
    monkeypatch.setattr(rebuild, "call",
                        lambda function, payload: (invoked.append(payload), (0, json.dumps(answer)))[1])
    assert restore.main(args) == 0
    assert invoked[-1] == {"action": "restore", "version": 1, "dry_run": False}
    out = capsys.readouterr().out
    assert "version 1's catalogue published as version 4 (was version 3)" in out
    assert "models removed back: 1 (Gamma)" in out and "providers/newco.json" in out


def test_enable_resumes_then_rebuilds_unless_told_not_to(deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    reasons: list[str] = []
    monkeypatch.setattr(rebuild, "rebuild", lambda args, reason: reasons.append(reason) or 0)
    assert trigger.main(target(state="disable", no_rebuild=False)) == 0
    assert "publishing: paused" in capsys.readouterr().out and reasons == []
    assert trigger.main(target(state="enable", no_rebuild=True)) == 0
    assert reasons == []
    assert trigger.main(target(state="enable", no_rebuild=False)) == 0
    assert reasons == ["resume"] and "publishing: ON" in capsys.readouterr().out
