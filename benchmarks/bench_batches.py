"""The trigger's full batches through the publisher handler: time, peak memory and S3 requests.

Two batches the event source mapping can now deliver (infra/variables.tf: up to 10,000 records,
and Lambda ends a batch at 6 MB of payload), applied by the real handler (stream parsing, the
change feed, history shards, the version log) to a catalogue of 10k models (100k with --full)
whose history shards hold every model's `added` event:

- burst: 10,000 records, 5,000 new models and 5,000 score changes (then their removal, alternately);
- largest: as many records of the largest valid items (every field at its limit, both images) as
  fit in 6 MB.

Each case runs in a fresh interpreter against a moto server over loopback HTTP; peak RSS is the
interpreter's high-water mark (VmHWM), to compare with the publisher's memory setting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import largest_items, peak_rss_mb, save_rows, synthetic_items  # noqa: E402

BUCKET = "bench-batches"
REPEATS = 3


def record(name: str, sequence: int, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    from publisher.core.ddb import serialize

    body: dict[str, Any] = {"ApproximateCreationDateTime": time.time(), "Keys": {"model_name": {"S": name}},
                            "SequenceNumber": str(sequence).rjust(21, "0"), "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new is not None:
        body["NewImage"] = serialize(new)["M"]
    if old is not None:
        body["OldImage"] = serialize(old)["M"]
    kind = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return {"eventID": str(sequence), "eventName": kind, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": body,
            "eventSourceARN": "arn:aws:dynamodb:::table/llm_scores/stream/x"}


def seed_site(count: int, extra: list[dict[str, Any]]) -> int:
    """The state, the site and the history shards of `count` synthetic models plus `extra` items;
    returns the next free stream sequence number. Run in its own process (see child)."""
    from publisher.core import aws
    from publisher.core.history_shards import shard_objects
    from publisher.core.model import to_record
    from publisher.publish.feed import events_for
    from publisher.publish.render import render_site
    from publisher.publish.state import Change, State
    from publisher.publish.store import SiteStore

    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    store = SiteStore(s3, BUCKET)
    items = synthetic_items(count) + extra
    state = State(version=1, generated_at="2026-01-01T00:00:00Z")
    events = []
    for i, item in enumerate(items):
        record_ = to_record(item)
        state.models[item["model_name"]] = record_
        state.sequences[item["model_name"]] = str(i + 1)
        events += events_for(Change(item["model_name"], None, record_, state.generated_at, str(i + 1), "stream"), 1)
    store.save_state(state, None)
    histories = shard_objects(events, store.get_with_prior, 500)
    store.publish(render_site(1, state.generated_at, state.models) + histories, 1)
    return len(items) + 10


def extra_items(case: str) -> list[dict[str, Any]]:
    return largest_items(1_000) if case == "largest" else []


def batches(case: str, count: int) -> Iterator[list[dict[str, Any]]]:
    """The batches of a case, one per run (each changes something), made one at a time: Lambda holds
    one event."""
    from publisher.local.poller import payload_bytes
    from publisher.local.trigger_settings import MAX_PAYLOAD_BYTES, trigger_settings

    if case == "largest":
        for r in range(REPEATS + 1):
            rows, size = [], 16
            for i, item in enumerate(extra_items(case)):
                row = record(item["model_name"], 0, {**item, "score": 1 + (i + r) % 90}, item)
                if size + payload_bytes(row) > MAX_PAYLOAD_BYTES:
                    break
                rows.append(row)
                size += payload_bytes(row)
            yield rows
        return
    half = trigger_settings().batch_size // 2
    existing = synthetic_items(count)
    for r in range(REPEATS + 1):
        fresh = [{"model_name": f"Burst {i:05d}", "provider": "Burst", "score": 50 + i % 40} for i in range(half)]
        changed = [dict(existing[(r * half + i) % count], score=(r * 7 + i) % 100) for i in range(half)]
        rows = [record(f["model_name"], 0, None if r % 2 else f, f if r % 2 else None) for f in fresh]
        rows += [record(c["model_name"], 0, c, None) for c in changed]
        for row in rows:
            row["eventName"] = "REMOVE" if "NewImage" not in row["dynamodb"] else "MODIFY"
        yield rows


def child(case: str, count: int) -> dict[str, Any]:
    from publisher.core import aws
    from publisher.local.emulator import free_port, local_aws_env, start_emulator
    from publisher.local.lambda_shapes import LambdaContext
    from publisher.publish import handler as publish

    emulator = start_emulator(port=free_port(), reuse=False)
    os.environ.update(local_aws_env(emulator.endpoint), SITE_BUCKET=BUCKET, POWERTOOLS_TRACE_DISABLED="true",
                      POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_LOG_LEVEL="WARNING")
    with emulator:
        # Seeding renders the whole site: in another process, so this one's peak is the batches'.
        seeded = subprocess.run([sys.executable, __file__, "--seed", case, str(count)], capture_output=True,
                                text=True, check=True, env=os.environ)
        sequence = int(seeded.stdout.strip().splitlines()[-1])
        calls: Counter[str] = Counter()
        aws.client("s3").meta.events.register("before-call.s3", lambda model, **_: calls.update([model.name]))
        rss_before, timings, rows = peak_rss_mb(), [], []
        for r, rows in enumerate(batches(case, count)):
            for row in rows:
                sequence += 1
                row["dynamodb"]["SequenceNumber"] = str(sequence).rjust(21, "0")
            calls.clear()
            started = time.perf_counter()
            response = publish.handler({"Records": rows}, LambdaContext())
            if response != {"batchItemFailures": []}:
                raise RuntimeError(f"{case}: the batch failed: {response}")
            if r:  # the first run warms the template cache and the clients
                timings.append((time.perf_counter() - started) * 1000)
            peak = peak_rss_mb()
        payload = len(json.dumps({"Records": rows}, ensure_ascii=False).encode())
    return {"case": case, "models": count, "records": len(rows), "payload_mb": round(payload / 2**20, 2),
            "publish_ms": round(statistics.median(timings)), "peak_rss_mb": round(peak),
            "rss_before_batches_mb": round(rss_before), "s3_requests": dict(calls)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also on a 100,000-model catalogue")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--seed", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:
        print(seed_site(int(args.seed[1]), extra_items(args.seed[0])))
        return 0
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return 0
    sizes = (10_000, 100_000) if args.full else (10_000,)
    print("the trigger's full batches through the publisher handler (moto server over HTTP)")
    print(f"{'models':>8} {'case':>8} {'records':>8} {'payload':>8} {'median ms':>10} {'peak RSS MB':>12}   "
          "S3 requests of one publish")
    rows = []
    for count in sizes:
        for case in ("burst", "largest"):
            out = subprocess.run([sys.executable, __file__, "--child", case, str(count)], capture_output=True,
                                 text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            requests = ", ".join(f"{op} {n}" for op, n in sorted(row["s3_requests"].items()))
            print(f"{count:>8} {case:>8} {row['records']:>8} {row['payload_mb']:>6.1f}MB {row['publish_ms']:>10} "
                  f"{row['peak_rss_mb']:>12}   {requests}")
    save_rows("batches", rows, ("models", "case"))
    from publisher.local.trigger_settings import infra_default

    memory = infra_default("publisher_memory_mb")
    print(f"target: peak RSS within the publisher's memory (infra/variables.tf publisher_memory_mb, {memory} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
