"""Publish cost at 1k and 10k models (100k with --full): apply a 100-record batch, render, write to S3.

S3 is moto in server mode in its own process, reached over loopback HTTP as a Lambda reaches S3,
so each size's process (a fresh one per size) measures the publisher's own peak RSS and time.
The trigger's full batches (10,000 records, 6 MB of the largest items) are bench_batches.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import merge_results, peak_rss_mb, save_rows, summary, synthetic_items  # noqa: E402

BATCH = 100


def _one_size(count: int, repeats: int, feed: bool) -> dict:
    from publisher.local.emulator import free_port, local_aws_env, start_emulator

    emulator = start_emulator(port=free_port(), reuse=False)
    os.environ.update(local_aws_env(emulator.endpoint))
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    from publisher.core import aws
    from publisher.core.config import ConfigError  # noqa: F401 - imported for parity with the handler
    from publisher.core.model import to_record
    from publisher.publish.extensions import install
    from publisher.publish.publisher import Publisher
    from publisher.publish.state import State, StreamChange
    from publisher.publish.store import SiteStore

    with emulator:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="bench-site")
        store = SiteStore(s3, "bench-site")
        items = synthetic_items(count)
        state = State(version=1, generated_at="2026-01-01T00:00:00Z")
        for i, item in enumerate(items):
            state.models[item["model_name"]] = to_record(item)
            state.sequences[item["model_name"]] = str(i + 1)
        store.save_state(state, None)
        publisher = Publisher(store)

        class _Cfg:
            changes_limit = 200
            history_limit = 500
            public_base_url = ""

        if feed:  # the deployed publisher runs with the change feed
            install(publisher, _Cfg())
        rss_before = peak_rss_mb()
        timings = []
        phases: dict[str, list[float]] = {}
        sequence = count + 10
        for r in range(repeats + 1):
            batch = []
            for j in range(BATCH):
                item = dict(items[(r * BATCH + j * 97) % count])
                item["score"] = Decimal(str((r * 7 + j) % 100))
                sequence += 1
                batch.append(StreamChange(item["model_name"], str(sequence), "MODIFY", item,
                                          f"2026-01-01T00:{r:02d}:00Z"))
            started = time.perf_counter()
            result = publisher.apply_stream(batch)
            elapsed = time.perf_counter() - started
            assert result.published, "each batch changes scores, so it must publish"
            if r:  # the first run warms jinja's template cache and the clients
                timings.append(elapsed * 1000)
                for phase, ms in result.phases.items():
                    phases.setdefault(phase, []).append(ms)
        size = len(s3.get_object(Bucket="bench-site", Key="llms.json")["Body"].read())
    return {
        "models": count,
        "feed": feed,
        "publish_ms": summary(timings),
        "phases_ms": {phase: summary(values)["median"] for phase, values in phases.items()},
        "llms_json_bytes": size,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_publish_mb": rss_before,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=None, help="default 1000,10000; 1000,10000,100000 with --full")
    parser.add_argument("--full", action="store_true", help="also 100,000 models (about 3 minutes more)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-feed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_one_size(args.child, args.repeats, feed=not args.no_feed)))
        return 0
    sizes = args.sizes or ("1000,10000,100000" if args.full else "1000,10000")
    results = []
    print(f"publish benchmark: apply a {BATCH}-record batch (100 distinct models) + render + conditional "
          "writes to S3 (moto server in its own process, sharing the 2 cores)")
    print(f"{'models':>8} {'feed':>5} {'median ms':>10} {'p99 ms':>8} {'llms.json':>11} {'peak RSS MB':>12}   "
          "median per phase (ms)")
    for size in [int(s) for s in sizes.split(",")]:
        repeats = args.repeats if size < 100_000 else max(3, args.repeats // 2)
        # With the change feed (as deployed: one history object per changed model) and without it.
        for feed in (True, False):
            command = [sys.executable, __file__, "--child", str(size), "--repeats", str(repeats)]
            out = subprocess.run(command + ([] if feed else ["--no-feed"]), capture_output=True, text=True,
                                 check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(row)
            print(f"{row['models']:>8} {'on' if feed else 'off':>5} {row['publish_ms']['median']:>10.0f} "
                  f"{row['publish_ms']['p99']:>8.0f} {row['llms_json_bytes'] / 1e6:>9.2f}MB "
                  f"{row['peak_rss_mb']:>12.0f}   " + " ".join(f"{k} {v:.0f}" for k, v in row["phases_ms"].items()))
    print("targets: 10k <= 1000 ms, 100k <= 10000 ms, peak RSS <= 512 MB")
    save_rows("publish", results, ("models", "feed"), batch=BATCH)
    by_size = {r["models"]: r for r in results if r["feed"]}
    if 10_000 in by_size:
        merge_results({"publisher_handler_ms": round(by_size[10_000]["publish_ms"]["median"], 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
