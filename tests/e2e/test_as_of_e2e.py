"""Time travel on the local stack (issue 15's Done-when): a model added at 50, changed to 60 and
deleted reads correctly through /api/llms?as_of= and /api/llms/{name}?as_of= at an instant after
each step, and a malformed, too early or future instant is a 400 that names the available range."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

MODEL = "As-Of Probe Ünïcode"
# Another case of it: by the identity rules it means the model only while exactly one has it.
LOOKALIKE = "as-of probe ünïcode"


def _instant() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _published(stack: Any, score: float | None) -> None:
    def seen() -> bool:
        models = {m["model_name"]: m for m in stack.get_json("/llms.json")["models"]}
        return models.get(MODEL, {}).get("score") == score if score is not None else MODEL not in models
    stack.wait_for(seen, timeout=20)


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _list_score(stack: Any, instant: str) -> tuple[float | None, int]:
    document = stack.get_json(f"/api/llms?as_of={quote(instant)}&q={quote('as-of probe')}&limit=500")
    scores = [m["score"] for m in document["items"] if m["model_name"] == MODEL]
    assert all(m["model_name"] != LOOKALIKE for m in document["items"])
    return (scores[0] if scores else None), document["version"]


def _model_score(stack: Any, instant: str) -> tuple[int, float | None, str]:
    status, headers, body = stack.get(f"/api/llms/{quote(MODEL, safe='')}?as_of={quote(instant)}")
    if status == 200:
        return status, json.loads(body)["score"], _header(headers, "x-snapshot-version")
    # The 404 says which snapshot it looked in: "... (version N)".
    message = json.loads(body)["error"]["message"]
    return status, None, message.rsplit("(version ", 1)[1].rstrip(")")


def test_a_model_added_changed_and_deleted_reads_correctly_at_each_instant(local_stack: Any) -> None:
    dynamodb = local_stack.client("dynamodb")
    before = _instant()
    time.sleep(0.05)
    dynamodb.put_item(TableName=local_stack.table, Item={
        "model_name": {"S": MODEL}, "provider": {"S": "Probe Labs"}, "score": {"N": "50"}})
    _published(local_stack, 50)
    at_50 = _instant()
    dynamodb.update_item(TableName=local_stack.table, Key={"model_name": {"S": MODEL}},
                         UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": "60"}})
    _published(local_stack, 60)
    at_60 = _instant()
    dynamodb.delete_item(TableName=local_stack.table, Key={"model_name": {"S": MODEL}})
    _published(local_stack, None)
    after = _instant()
    time.sleep(0.05)

    listed = [_list_score(local_stack, t) for t in (before, at_50, at_60, after)]
    assert [score for score, _ in listed] == [None, 50, 60, None]
    versions = [version for _, version in listed]
    assert versions == sorted(versions) and len(set(versions)) == 4, versions

    looked_up = [_model_score(local_stack, t) for t in (before, at_50, at_60, after)]
    assert [(status, score) for status, score, _ in looked_up] == [(404, None), (200, 50), (200, 60),
                                                                    (404, None)]
    # Each answer names the snapshot version it reflects, the same one the list named.
    assert [int(v) for _, _, v in looked_up] == versions
    # The identity rules hold at the instant: another case means the one model that had it then, by
    # its exact name, and nothing before it existed.
    status, _, body = local_stack.get(f"/api/llms/{quote(LOOKALIKE, safe='')}?as_of={quote(at_50)}")
    assert status == 200 and json.loads(body)["model_name"] == MODEL
    status, _, _ = local_stack.get(f"/api/llms/{quote(LOOKALIKE, safe='')}?as_of={quote(before)}")
    assert status == 404


def test_a_bad_as_of_is_a_400_that_names_the_range(local_stack: Any) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    for instant, code in (("yesterday", "invalid_as_of"), ("2026-02-30T00:00:00Z", "invalid_as_of"),
                          ("2026-01-01T00:00:00", "invalid_as_of"), ("1999-01-01T00:00:00Z", "as_of_out_of_range"),
                          (future, "as_of_out_of_range")):
        for path in ("/api/llms", "/api/llms/GPT-4"):
            status, headers, body = local_stack.get(f"{path}?as_of={quote(instant)}")
            assert status == 400, (path, instant, body)
            error = json.loads(body)["error"]
            assert error["code"] == code and error["parameter"] == "as_of", error
            assert _header(headers, "access-control-allow-origin") == "*"
            # Malformed or out of range, the answer names the range a reader can ask for.
            assert "available range is" in error["message"] and "to now" in error["message"], error


def test_as_of_pages_with_its_own_cursors_and_refuses_a_live_one(local_stack: Any) -> None:
    now = _instant()
    whole = local_stack.get_json(f"/api/llms?as_of={quote(now)}&sort=model_name&limit=500")
    names, cursor = [], ""
    while True:
        page = local_stack.get_json(f"/api/llms?as_of={quote(now)}&sort=model_name&limit=7{cursor}")
        assert page["version"] == whole["version"]
        names += [m["model_name"] for m in page["items"]]
        if page["next"] is None:
            break
        cursor = f"&cursor={page['next']}"
    assert names == [m["model_name"] for m in whole["items"]] and len(names) == whole["total"] > 7

    # A cursor of a later snapshot than the one the instant reads is a 400 naming cursor, never a 500.
    dynamodb = local_stack.client("dynamodb")
    dynamodb.put_item(TableName=local_stack.table, Item={
        "model_name": {"S": "As-Of Cursor Probe"}, "provider": {"S": "Probe Labs"}, "score": {"N": "1"}})
    try:
        local_stack.wait_for(lambda: local_stack.get_json("/llms.json")["version"] > whole["version"], timeout=20)
        live = local_stack.get_json("/api/llms?sort=model_name&limit=7")
        status, _, body = local_stack.get(f"/api/llms?as_of={quote(now)}&sort=model_name&limit=7"
                                          f"&cursor={live['next']}")
        assert status == 400 and json.loads(body)["error"]["parameter"] == "cursor", body
    finally:
        dynamodb.delete_item(TableName=local_stack.table, Key={"model_name": {"S": "As-Of Cursor Probe"}})
        local_stack.wait_for(lambda: all(m["model_name"] != "As-Of Cursor Probe"
                                         for m in local_stack.get_json("/llms.json")["models"]), timeout=20)
