"""On the running stack: a rebuild racing the stream leaves no model behind and writes history in the
order of the writes; a rebuild with nothing changed writes no object (issue 20, classes 2 and 3)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from typing import Any

from publisher.core.identity import history_key
from tests.e2e.conftest import REPO, RunningStack

MODELS = [f"Race {i}" for i in range(10)]
UPDATES = 300


def rebuild(stack: RunningStack) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-m", "publisher", "rebuild", "--endpoint", stack.endpoint],
                            cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def scores(stack: RunningStack) -> dict[str, float]:
    return {m["model_name"]: m["score"] for m in stack.get_json("/llms.json")["models"] if m["model_name"] in MODELS}


def objects(stack: RunningStack) -> dict[str, tuple[str, Any]]:
    s3 = stack.client("s3")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = (item["ETag"], item["LastModified"])
    return found


def test_a_rebuild_racing_300_updates_leaves_no_model_behind(local_stack: RunningStack) -> None:
    ddb = local_stack.client("dynamodb")
    rng = random.Random(20)
    written: dict[str, list[float]] = {name: [50.0] for name in MODELS}
    for name in MODELS:
        ddb.put_item(TableName=local_stack.table, Item={"model_name": {"S": name}, "provider": {"S": "Race Lab"},
                                                        "score": {"N": "50"}})
    local_stack.wait_for(lambda: scores(local_stack) == {name: 50.0 for name in MODELS}, timeout=30)
    started = threading.Event()
    rebuilds: list[dict[str, Any]] = []

    def rebuild_while_updating() -> None:
        started.wait(30)
        for _ in range(3):
            rebuilds.append(rebuild(local_stack))

    racer = threading.Thread(target=rebuild_while_updating)
    racer.start()
    for i in range(UPDATES):
        name = MODELS[i % len(MODELS)]
        score = round(rng.uniform(0, 100), 1)
        written[name].append(score)
        ddb.update_item(TableName=local_stack.table, Key={"model_name": {"S": name}},
                        UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": str(score)}})
        if i == 30:
            started.set()
    racer.join(300)
    assert len(rebuilds) == 3
    final = {name: values[-1] for name, values in written.items()}
    local_stack.wait_for(lambda: scores(local_stack) == final, timeout=60)
    for name in MODELS:
        history = local_stack.get_json("/" + history_key(name))["events"]
        moves = [e["new"] for e in reversed(history) if e["field"] == "score"]
        assert moves[-1] == final[name], (name, moves[-5:])
        # Every score the history shows is one that was written, in the order it was written: a
        # rebuild that reverted a model would show an older score after a newer one.
        position = 0
        for score in moves:
            assert score in written[name][position:], (name, score, "out of order: a revert")
            position = written[name].index(score, position) + 1
        ids = [e["id"] for e in history]
        assert len(ids) == len(set(ids)), name


def test_a_rebuild_with_nothing_changed_writes_no_object(local_stack: RunningStack) -> None:
    rebuild(local_stack)
    before = objects(local_stack)
    summary = rebuild(local_stack)
    assert summary["drift"] == 0 and summary["written"] == 0, summary
    assert objects(local_stack) == before
