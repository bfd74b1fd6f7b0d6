"""Where a cold start's time goes, ours against the PoC's, at the PoC's real table size (30 models).

One fresh interpreter per run against one moto server on a free port, phases timed inside the
process: handler module import; (ours) creating the S3 client it reads the snapshot with; the first
request. Interpreter start-up is the same for both and left out. Median of 10 runs, interleaved.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from common import save, synthetic_items  # noqa: E402
from read_cold import BUCKET, CREDENTIALS, TABLE, event, publish_snapshot, start_moto  # noqa: E402

RUNS = 10
MODELS = 30
OURS = """
import json, time
t0 = time.perf_counter()
from publisher.handlers import read
t1 = time.perf_counter()
from publisher import aws
aws.client("s3")
t2 = time.perf_counter()
response = read.handler({event}, None)
t3 = time.perf_counter()
assert response["statusCode"] == 200, response
print("PHASES", json.dumps({{"import": (t1 - t0) * 1000, "client": (t2 - t1) * 1000,
                            "first_request": (t3 - t2) * 1000}}))
"""
POC = """
import contextlib, io, json, time
t0 = time.perf_counter()
import baseline_poc
t1 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    response = baseline_poc.handler({event}, None)
t2 = time.perf_counter()
assert response["statusCode"] == 200, response
print("PHASES", json.dumps({{"import": (t1 - t0) * 1000, "client": 0.0, "first_request": (t2 - t1) * 1000}}))
"""


def main() -> int:
    import boto3

    from publisher.local.resources import ensure_bucket, ensure_table
    from publisher.seed import seed

    samples: dict[str, list[dict[str, float]]] = {"ours": [], "poc": []}
    with start_moto() as emulator:
        env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": emulator.endpoint, "PYTHONPATH": f"{REPO}:{BENCH}"}
        kwargs: dict[str, Any] = {"endpoint_url": emulator.endpoint, "region_name": "us-east-1",
                                  "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        dynamodb, s3 = boto3.client("dynamodb", **kwargs), boto3.client("s3", **kwargs)
        ensure_table(dynamodb, TABLE)
        ensure_bucket(s3, BUCKET)
        seed(dynamodb, TABLE, synthetic_items(MODELS))
        publish_snapshot(s3, dynamodb)
        scripts = {"ours": OURS.format(event=repr(event("/api/llms", "provider=OpenAI&min_score=90"))),
                   "poc": POC.format(event=repr(event("/llms")))}
        for _ in range(RUNS):
            for name, script in scripts.items():
                result = subprocess.run([sys.executable, "-c", script], env=env, cwd=BENCH, capture_output=True,
                                        text=True, timeout=120, check=False)
                line = next((x for x in result.stdout.splitlines() if x.startswith("PHASES ")), None)
                if line is None:
                    raise RuntimeError(f"{name} run failed:\n{result.stdout}\n{result.stderr[-2000:]}")
                samples[name].append(json.loads(line[len("PHASES "):]))
    medians = {name: {phase: round(statistics.median(run[phase] for run in runs), 1) for phase in runs[0]}
               for name, runs in samples.items()}
    for phases in medians.values():
        phases["total"] = round(sum(phases.values()), 1)
    path = save("cold_start_breakdown", {"models": MODELS, "runs": RUNS, "median_ms": medians})
    print(f"cold start by phase at {MODELS} models, median of {RUNS} fresh processes (interpreter start excluded):")
    for name, phases in medians.items():
        print(f"  {name:<5} import {phases['import']:6.1f} ms + client {phases['client']:6.1f} ms + first request "
              f"{phases['first_request']:6.1f} ms = {phases['total']:6.1f} ms")
    print(f"results: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
