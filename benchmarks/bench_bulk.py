"""A bulk seed and its undoing through the local stack, as an operator's script would write them.

Starts the stack as `make run` does (on free ports, trigger settings from infra/variables.tf),
writes 5,000 new models with boto3's batch_writer (BatchWriteItem, 25 items a call), and measures:
the write time, the time from the last write until /llms.json at the edge shows all of them, and
the publishes it took (the snapshot version moves by one per publish). Five sampled models must
have their `added` history event. Then the same for deleting all 5,000. Target: each converges
within max(10 s, the write time) of the last write.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import merge_results, save  # noqa: E402

TIMEOUT_S = 300
PROVIDERS = ("Bulk Labs", "Seed AI", "Batch Co", "Backfill", "Import Inc")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        return json.load(response)


def wait_until(edge: str, done: Any) -> tuple[float, dict[str, Any]]:
    """Seconds until `done(snapshot)` holds for /llms.json at the edge, and that snapshot."""
    started = time.perf_counter()
    while time.perf_counter() - started < TIMEOUT_S:
        snapshot = get_json(edge + "/llms.json")
        if done(snapshot):
            return time.perf_counter() - started, snapshot
        time.sleep(0.1)
    raise RuntimeError(f"/llms.json did not converge within {TIMEOUT_S} s")


def phase(table: Any, edge: str, names: list[str], delete: bool) -> dict[str, Any]:
    wanted = set(names)
    before = get_json(edge + "/llms.json")["version"]
    started = time.perf_counter()
    with table.batch_writer() as writer:
        for i, name in enumerate(names):
            if delete:
                writer.delete_item(Key={"model_name": name})
            else:
                writer.put_item(Item={"model_name": name, "provider": PROVIDERS[i % len(PROVIDERS)],
                                      "score": Decimal(str(round(40 + (i * 37 % 600) / 10, 1))),
                                      "context_window": 8192 * (1 + i % 16)})
    write_s = time.perf_counter() - started

    def converged(snapshot: dict[str, Any]) -> bool:
        shown = {m["model_name"] for m in snapshot["models"]} & wanted
        return not shown if delete else shown == wanted

    visible_s, snapshot = wait_until(edge, converged)
    return {"records": len(names), "write_s": round(write_s, 2), "visible_after_last_write_s": round(visible_s, 2),
            "bound_s": round(max(10.0, write_s), 2), "publishes": snapshot["version"] - before,
            "within_bound": visible_s <= max(10.0, write_s)}


def main(argv: list[str] | None = None) -> int:
    import boto3

    from publisher.local.launch import launch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=5_000)
    parser.add_argument("--full", action="store_true", help="(the same run: this benchmark is quick)")
    args = parser.parse_args(argv)
    names = [f"Bulk Seed {i:05d}" for i in range(args.models)]
    with tempfile.TemporaryDirectory() as tmp:
        stack = launch(Path(tmp))
        try:
            table = boto3.resource("dynamodb", endpoint_url=stack.endpoint, region_name="us-east-1",
                                   aws_access_key_id="bench", aws_secret_access_key="bench").Table("llm_scores")
            added = phase(table, stack.edge, names, delete=False)
            sampled = random.Random(11).sample(names, 5)
            histories = {name: [e["kind"] for e in get_json(f"{stack.edge}/api/llms/{quote(name)}/history")["events"]]
                         for name in sampled}
            added["sampled_added_events"] = all(kinds == ["added"] for kinds in histories.values())
            removed = phase(table, stack.edge, names, delete=True)
        finally:
            stack.stop()
    results = {"models": args.models, "add": added, "delete": removed}
    path = save("bulk", results)
    merge_results({"bulk_add_visible_s": added["visible_after_last_write_s"],
                   "bulk_delete_visible_s": removed["visible_after_last_write_s"]})
    print(f"bulk seed through the local stack: {args.models} models with batch_writer (BatchWriteItem)")
    for label, row in (("add", added), ("delete", removed)):
        verdict = "met" if row["within_bound"] else "MISSED"
        print(f"  {label:<6} writes {row['write_s']:6.1f} s   /llms.json shows it "
              f"{row['visible_after_last_write_s']:5.1f} s after the last write "
              f"(bound {row['bound_s']:.1f} s: {verdict})   {row['publishes']} publishes")
    print(f"  5 sampled models have their `added` history event: {added['sampled_added_events']}")
    print(f"results: {path.relative_to(Path(__file__).resolve().parent.parent)}")
    return 0 if added["within_bound"] and removed["within_bound"] and added["sampled_added_events"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
