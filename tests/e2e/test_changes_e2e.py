"""Catch-up by version on the local stack (issue 23's Done-when): write, note the version v, change one
model, and GET /api/changes?since=v answers exactly that change; since past the current version answers
none; since=-1 and since=abc are 400s naming `since`; as-of reads between the steps still read exactly;
and the client snippet README.md and the page show keeps a local copy equal to llms.json."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.e2e.test_as_of_e2e import _header, _instant

MODEL = "Catch-Up Probe"
REPO = Path(__file__).resolve().parents[2]


def _put(stack: Any, score: str) -> None:
    stack.client("dynamodb").put_item(TableName=stack.table, Item={
        "model_name": {"S": MODEL}, "provider": {"S": "Probe Labs"}, "score": {"N": score}})
    stack.wait_for(lambda: any(m["model_name"] == MODEL and m["score"] == float(score)
                               for m in stack.get_json("/llms.json")["models"]), timeout=20)


def test_since_a_version_answers_exactly_the_change_made_after_it(local_stack: Any) -> None:
    _put(local_stack, "50")
    at_50 = _instant()
    v = local_stack.get_json("/llms.json")["version"]
    _put(local_stack, "61")
    at_61 = _instant()
    current = local_stack.get_json("/llms.json")["version"]
    assert current == v + 1

    status, headers, body = local_stack.get(f"/api/changes?since={v}")
    page = json.loads(body)
    assert status == 200 and page["version"] == current and _header(headers, "x-snapshot-version") == str(current)
    assert _header(headers, "access-control-allow-origin") == "*" and "s-maxage" in _header(headers, "cache-control")
    assert [(c["version"], c["model_name"], c["record"]["score"]) for c in page["changes"]] == [(current, MODEL, 61)]
    (event,) = page["changes"][0]["events"]
    assert (event["kind"], event["field"], event["old"], event["new"]) == ("changed", "score", 50, 61)
    assert page["next"] is None
    status, again, _ = local_stack.get(f"/api/changes?since={v}", {"If-None-Match": _header(headers, "etag")})
    assert status == 304

    for since in (current, current + 5):
        status, _, body = local_stack.get(f"/api/changes?since={since}")
        assert status == 200 and json.loads(body)["changes"] == []
    for bad in ("-1", "abc"):
        status, _, body = local_stack.get(f"/api/changes?since={bad}")
        assert status == 400 and json.loads(body)["error"]["parameter"] == "since"

    # As-of reads between the steps still read exactly (checkpoints or not).
    for instant, score in ((at_50, 50), (at_61, 61)):
        status, headers, body = local_stack.get(f"/api/llms/{quote(MODEL, safe='')}?as_of={quote(instant)}")
        assert status == 200 and json.loads(body)["score"] == score
        # Version v was followed by another: that instant's answer can never change, so it is kept long.
        assert ("immutable" in _header(headers, "cache-control")) == (score == 50)


def _snippet() -> str:
    """The client code README.md shows (the page shows the same), between its markers."""
    text = (REPO / "README.md").read_text()
    found = re.search(r"<!-- catch-up snippet -->\s*```python\n(.*?)```", text, re.S)
    assert found, "README.md lost its catch-up snippet"
    return found.group(1)


def test_the_documented_client_keeps_a_local_copy_equal_to_llms_json(local_stack: Any) -> None:
    _put(local_stack, "70")
    namespace: dict[str, Any] = {}
    exec(compile(_snippet(), "README.md catch-up snippet", "exec"), namespace)  # noqa: S102 - our own docs
    copy = namespace["load"](local_stack.edge)
    _put(local_stack, "71")
    local_stack.client("dynamodb").delete_item(TableName=local_stack.table, Key={"model_name": {"S": MODEL}})
    local_stack.wait_for(lambda: all(m["model_name"] != MODEL for m in local_stack.get_json("/llms.json")["models"]),
                         timeout=20)
    namespace["catch_up"](local_stack.edge, copy)
    published = local_stack.get_json("/llms.json")
    assert copy["version"] == published["version"]
    assert copy["models"] == {m["model_name"]: m for m in published["models"]}
    page = (REPO / "site" / "templates" / "index.html.j2").read_text()
    assert "/api/changes?since=" in page
