"""Dated snapshots on the local stack (issue 15's Done-when): after writes, /snapshots/index.json
lists today's UTC date, the dated file validates against the schema its `$schema` names (jsonschema
and check-jsonschema), a later publish the same day leaves it byte-for-byte alone, and both carry
the edge contract's CORS and security headers with their own cache lifetimes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
from jsonschema import Draft202012Validator, FormatChecker

from publisher.core import edge_contract

MODEL = "Snapshot Probe"
ORIGIN = "https://consumer.example"


def _write(stack: Any, score: int) -> None:
    stack.client("dynamodb").put_item(TableName=stack.table, Item={
        "model_name": {"S": MODEL}, "provider": {"S": "Probe Labs"}, "score": {"N": str(score)}})

    def seen() -> bool:
        models = {m["model_name"]: m for m in stack.get_json("/llms.json")["models"]}
        return models.get(MODEL, {}).get("score") == score
    stack.wait_for(seen, timeout=20)


def _validate(stack: Any, path: str, document: Any, tmp_path: Path) -> None:
    schema_url = urljoin(stack.edge + path, document["$schema"])
    schema = requests.get(schema_url, timeout=10)
    assert schema.status_code == 200 and schema.headers["Content-Type"].startswith("application/schema+json")
    Draft202012Validator(schema.json(), format_checker=FormatChecker()).validate(document)
    cli = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    target = tmp_path / Path(path).name
    target.write_text(json.dumps(document))
    checked = subprocess.run([cli, "--schemafile", schema_url, str(target)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_todays_snapshot_is_listed_valid_and_never_rewritten(local_stack: Any, tmp_path: Path) -> None:
    _write(local_stack, 50)
    today = datetime.now(UTC).date().isoformat()
    index = local_stack.get_json("/snapshots/index.json")
    entries = {e["date"]: e for e in index["snapshots"]}
    assert today in entries, index  # (a run across midnight UTC lists the new day: rerun it)
    assert [e["date"] for e in index["snapshots"]] == sorted(entries) and index["count"] == len(entries)
    entry = entries[today]
    assert entry["url"] == f"/snapshots/{today}.json"
    _validate(local_stack, "/snapshots/index.json", index, tmp_path)

    response = requests.get(local_stack.edge + entry["url"], timeout=10, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    dated = response.json()
    assert (dated["version"], dated["count"]) == (entry["version"], entry["count"])
    _validate(local_stack, entry["url"], dated, tmp_path)
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    for name, value in edge_contract.security_headers().items():
        assert response.headers[name] == value, name
    listing = requests.get(local_stack.edge + "/snapshots/index.json", timeout=10, headers={"Origin": ORIGIN})
    assert listing.headers["Access-Control-Allow-Origin"] == "*"
    assert "immutable" not in listing.headers["Cache-Control"] and "s-maxage=" in listing.headers["Cache-Control"]

    _write(local_stack, 60)  # a later publish the same day
    assert local_stack.get_json("/llms.json")["version"] > dated["version"]
    again = requests.get(local_stack.edge + entry["url"], timeout=10)
    assert again.content == response.content
    assert local_stack.get_json("/snapshots/index.json")["snapshots"] == index["snapshots"]
    local_stack.client("dynamodb").delete_item(TableName=local_stack.table, Key={"model_name": {"S": MODEL}})
    local_stack.wait_for(lambda: all(m["model_name"] != MODEL for m in local_stack.get_json("/llms.json")["models"]),
                         timeout=20)
