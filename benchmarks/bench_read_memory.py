"""The read Lambda's memory and load time at 10k and 100k models, through a refresh.

For each size, a fresh interpreter runs the read handler as Lambda does (botocore S3 client, the
snapshot fetched from S3 on a moto server over loopback HTTP) and reports its resident memory:
after imports and the client, after the first answer (the cold load of llms.json), at the peak of
a refresh to a new version (the old copy answers until the new one is installed), and after a mix
of queries (filters, sorts, text search, a loose lookup). The peak RSS (VmHWM) is what the
function's memory setting must hold; the Lambda runtime's own bootstrap (not measured) adds to it.
Baseline, same run: the form held before (a dict per model and each record's bytes), one copy and
two (a refresh), from the same S3 object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from common import save, synthetic_items  # noqa: E402

BUCKET = "llm-catalogue-bench-memory"
QUERIES = ["provider=OpenAI&min_score=60", "sort=-context_window&limit=500", "q=model%200012&sort=release_date",
           "sort=model_name&min_context=100000", "provider=Meta&provider=xAI&sort=score"]

# The form the read API held before (issue 11): the parsed document (a dict per model) and each
# record's bytes, measured the same way as a baseline, in its own interpreter.
BASELINE = r"""
import json, sys
from publisher.core import aws
from publisher.core.documents import dumps

def peak():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024

def load():
    body = aws.client("s3").get_object(Bucket=sys.argv[1], Key="llms.json")["Body"].read()
    models = json.loads(body)["models"]
    return body, models, [dumps(m) for m in models]

old = load()
one = peak()
new = load()
print("FIGURES " + json.dumps({"peak_one_copy_mb": one, "peak_two_copies_mb": peak()}), flush=True)
"""

CHILD = r"""
import json, resource, sys, time

def peak():
    # VmHWM, the high-water mark of this address space: ru_maxrss would carry the parent's from fork.
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024

def current():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20

def request(path, query=""):
    event = {"version": "2.0", "rawPath": path, "rawQueryString": query, "headers": {},
             "requestContext": {"http": {"method": "GET", "path": path}}}
    response = read.handler(event, None)
    assert response["statusCode"] == 200, (path, query, response["statusCode"], response["body"][:200])
    return response

QUERIES = json.loads(sys.argv[1])
figures = {"start_mb": peak()}
from publisher.core import aws
from publisher.read import handler as read
aws.client("s3")
figures["imports_and_client_mb"] = current()
began = time.perf_counter()
request("/api/llms", "provider=OpenAI&min_score=90")
figures["cold_load_ms"] = (time.perf_counter() - began) * 1000
figures["after_cold_load_mb"] = current()
figures["peak_cold_load_mb"] = peak()
print("READY", flush=True)
sys.stdin.readline()  # the parent publishes the next version meanwhile
began = time.perf_counter()
response = request("/api/llms", "min_version=2")
figures["refresh_ms"] = (time.perf_counter() - began) * 1000
assert response["headers"]["X-Snapshot-Version"] == "2"
figures["peak_through_refresh_mb"] = peak()
for query in QUERIES:
    request("/api/llms", query)
request("/api/llms/model%20000001")  # a loose lookup: builds the case-insensitive index
request("/llms")
figures["after_queries_mb"] = current()
figures["peak_mb"] = peak()
print("FIGURES " + json.dumps(figures), flush=True)
"""


def publish(s3: Any, count: int, version: int) -> int:
    """Write llms.json and llms of a `count`-model catalogue as the publisher renders them."""
    from publisher.core.documents import catalogue_document, json_object
    from publisher.core.model import sorted_records, to_record
    from publisher.publish.store import SiteStore

    models = sorted_records(to_record(item) for item in synthetic_items(count, seed=version))
    document = catalogue_document(version, f"2026-01-01T00:00:0{version}Z", models)
    objects = [json_object("llms", models), json_object("llms.json", document)]
    SiteStore(s3, BUCKET).publish(objects, version)
    return len(objects[1].body)


def one_size(count: int) -> dict[str, Any]:
    import boto3

    from publisher.local.emulator import free_port, start_emulator

    with start_emulator("127.0.0.1", free_port(), reuse=False) as emulator:
        s3 = boto3.client("s3", endpoint_url=emulator.endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        s3.create_bucket(Bucket=BUCKET)
        size = publish(s3, count, 1)
        env = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint, "AWS_ACCESS_KEY_ID": "bench",
               "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1", "SITE_BUCKET": BUCKET,
               "TABLE_NAME": "llm_scores", "PYTHONPATH": str(REPO), "AWS_LAMBDA_FUNCTION_NAME": ""}
        child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(QUERIES)], env=env, cwd=REPO,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdin and child.stdout
        if child.stdout.readline().strip() != "READY":
            raise RuntimeError("the read handler failed its first answer")
        publish(s3, count, 2)
        child.stdin.write("go\n")
        child.stdin.flush()
        output = child.stdout.read()
        if child.wait(timeout=300) != 0 or "FIGURES " not in output:
            raise RuntimeError(f"the read handler failed at {count} models:\n{output}")
        figures = json.loads(output.split("FIGURES ", 1)[1])
        baseline = subprocess.run([sys.executable, "-c", BASELINE, BUCKET], env=env, cwd=REPO, capture_output=True,
                                  text=True, timeout=300, check=True).stdout
        figures["baseline_dicts"] = json.loads(baseline.split("FIGURES ", 1)[1])
    return {"models": count, "llms_json_bytes": size, **figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--full", action="store_true", help="(same sizes: this benchmark is quick)")
    args = parser.parse_args(argv)
    print("read Lambda memory (process RSS, MB) and load time: botocore S3 client, snapshot from S3 over HTTP")
    print(f"{'models':>8} {'llms.json':>10} {'imports':>8} {'loaded':>8} {'cold ms':>8} {'refresh ms':>10} "
          f"{'peak refresh':>13} {'peak all':>9}   baseline (dicts): one copy / two copies")
    results = []
    for count in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        row = one_size(count)
        results.append(row)
        print(f"{count:>8} {row['llms_json_bytes'] / 1e6:>8.1f}MB {row['imports_and_client_mb']:>8.0f} "
              f"{row['after_cold_load_mb']:>8.0f} {row['cold_load_ms']:>8.0f} {row['refresh_ms']:>10.0f} "
              f"{row['peak_through_refresh_mb']:>13.0f} {row['peak_mb']:>9.0f}   "
              f"{row['baseline_dicts']['peak_one_copy_mb']:.0f} / {row['baseline_dicts']['peak_two_copies_mb']:.0f}"
              f"   ({time.perf_counter() - started:.0f} s)")
    save("read_memory", {"results": results})
    print("target: the read function's memory setting (infra/variables.tf read_memory_mb) holds the peak")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
