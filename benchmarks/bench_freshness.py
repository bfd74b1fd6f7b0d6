"""Local freshness: from a write through the emulator to the change being visible at the edge.

Starts the local stack (as `make run` does, on free ports), writes 20 score changes one by one
and polls `/llms.json` at the edge every 20 ms until each shows. Target: <= 2 s. Then runs the
freshness canary 10 times against the same stack (heartbeat write to health.json at the edge,
polled every 0.5 s as `make canary` does).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import merge_results, save  # noqa: E402

WRITES = 20
CANARY_RUNS = 10


def main() -> int:
    import boto3

    from publisher.local.launch import launch

    with tempfile.TemporaryDirectory() as tmp:
        stack = launch(Path(tmp))
        try:
            ddb = boto3.client("dynamodb", endpoint_url=stack.endpoint, region_name="us-east-1",
                               aws_access_key_id="bench", aws_secret_access_key="bench")
            delays = []
            for i in range(WRITES):
                score = f"{50 + i + 0.5}"
                started = time.perf_counter()
                ddb.put_item(TableName="llm_scores", Item={
                    "model_name": {"S": "Freshness Probe"}, "provider": {"S": "Bench"}, "score": {"N": score}})
                while True:
                    with urllib.request.urlopen(stack.edge + "/llms.json", timeout=5) as response:  # noqa: S310
                        doc = json.load(response)
                    probe = next((m for m in doc["models"] if m["model_name"] == "Freshness Probe"), None)
                    if probe and probe["score"] == float(score):
                        break
                    if time.perf_counter() - started > 30:
                        raise SystemExit("a write did not show up within 30 s")
                    time.sleep(0.02)
                delays.append(time.perf_counter() - started)
            from publisher.canary.handler import url_fetch
            from publisher.canary.probe import Probe, ProbeSettings

            canary = []
            for _ in range(CANARY_RUNS):
                result = Probe(ProbeSettings(), url_fetch(stack.edge),
                               lambda item: ddb.put_item(TableName="llm_scores", Item=item)).run()
                if not result.ok or result.freshness is None:
                    raise SystemExit(f"canary failed: {result.failures}")
                canary.append(result.freshness)
        finally:
            stack.stop()
    median, worst = statistics.median(delays), max(delays)
    print(f"local freshness over {WRITES} writes: median {median:.2f} s, worst {worst:.2f} s (target <= 2 s)")
    print("  (stream batching window 0.25 s + poll 0.1 s + publish + edge cache TTL 0.5 s)")
    print(f"canary freshness over {CANARY_RUNS} runs: median {statistics.median(canary):.2f} s, "
          f"worst {max(canary):.2f} s (SLO: 60 s; polled every {ProbeSettings().poll_interval} s)")
    save("freshness", {"writes": WRITES, "median_s": median, "worst_s": worst, "all_s": delays,
                       "canary_runs": CANARY_RUNS, "canary_median_s": statistics.median(canary),
                       "canary_worst_s": max(canary), "canary_all_s": canary})
    merge_results({"freshness_median_s": round(median, 3), "freshness_worst_s": round(worst, 3)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
