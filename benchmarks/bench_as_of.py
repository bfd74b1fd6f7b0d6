"""History at production scale: as-of reads and catch-up at 10k models and 20,000 versions, S3 20 ms away.

The history is written as the publisher writes it (changelog.py's logs, checkpoints.py's checkpoints
and index, the same bytes) into a directory standing in for the bucket: version 1 adds 10,000
models (a bulk seed), each later version changes 1 to 5 of them (one in ten also deletes one), one
version every 26 minutes, so 20,000 versions span about a year. Only the checkpoints the sampled
reads start from are written (each is 1.5 MB; all 625 would be 0.9 GB of disk and identical in
kind), the index lists every one of them.

The reads run in a child process through the read function's own code (ReadApi over SnapshotSource,
boto3 imported as in Lambda) against a fake S3 client that sleeps S3_LATENCY_MS on every request
(GET or HEAD; parallel requests sleep in parallel, as S3 serves them) and counts them. So the
child's peak RSS is the read function's, and each figure includes everything a cold instance does:
- cold: a fresh ReadApi's first `GET /api/llms?as_of=<instant>&provider=OpenAI&min_score=90`
  (llms.json read, then the checkpoint index, one checkpoint and the logs after it, replayed);
- warm: the same instance asked again at other instants and at the same one;
- catch-up: `GET /api/changes?since=<v>` after one model changed, against the whole llms.json.
`make bench-as-of` runs it; the last line is one JSON object (also benchmarks/results/as_of.json).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from common import merge_results, save, summary, synthetic_items  # noqa: E402

MODELS = 10_000
VERSIONS = 20_000
S3_LATENCY_MS = 20
COLD_READS = 30
WARM_READS = 100
STEP = timedelta(minutes=26)
START = datetime(2026, 1, 1, tzinfo=UTC)
READ_MEMORY_MB = 256  # infra/variables.tf read_memory_mb (checked by the test of this benchmark's figures)


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build(root: Path, wanted: set[int]) -> dict[str, Any]:
    """Write the history into `root` (key -> file); returns what the reads need to know."""
    from publisher.core.documents import catalogue_document, dumps, log_key
    from publisher.core.model import sorted_records, to_record
    from publisher.core.replay import (
        CHECKPOINT_EVERY,
        CHECKPOINT_INDEX_KEY,
        Indexed,
        checkpoint_bytes,
        checkpoint_key,
        index_document,
        parse_time,
    )
    from publisher.publish.changelog import document, entry
    from publisher.publish.state import Change

    def put(key: str, body: bytes) -> None:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    rng = random.Random(23)
    current = {r["model_name"]: r for r in (to_record(i) for i in synthetic_items(MODELS))}
    names = sorted(current)
    indexed, log_bytes, sequence = [], 0, 0
    for version in range(1, VERSIONS + 1):
        stamp = _stamp(START + STEP * version)
        changes = []
        picks = names if version == 1 else rng.sample(names, 1 if version == VERSIONS else rng.randint(1, 5))
        for name in picks:
            sequence += 1
            old = current.get(name)
            score = round(rng.uniform(40, 99.9), 1)
            if version == 1:
                new = current[name]
            else:
                new = {**old, "score": score} if old else {"model_name": name, "provider": "OpenAI", "score": score}
            current[name] = new
            changes.append(Change(name, None if version == 1 else old, new, stamp, str(sequence), "stream"))
        if version % 10 == 0 and version != VERSIONS:
            gone = rng.choice(names)
            if gone in current:
                sequence += 1
                changes.append(Change(gone, current.pop(gone), None, stamp, str(sequence), "stream"))
        body = document(entry(version, changes, stamp))
        log_bytes += len(body)
        put(log_key(version), body)
        if version % CHECKPOINT_EVERY == 0:
            indexed.append(Indexed(version, parse_time(stamp), stamp))
            if version in wanted:
                put(checkpoint_key(version), checkpoint_bytes(version, stamp, current))
        if version == VERSIONS - 1:
            before = dumps(catalogue_document(version, stamp, sorted_records(current.values())))
    put(CHECKPOINT_INDEX_KEY, index_document(indexed, _stamp(START + STEP)))
    llms = dumps(catalogue_document(VERSIONS, _stamp(START + STEP * VERSIONS), sorted_records(current.values())))
    put("llms.json", llms)
    return {"log_bytes": log_bytes, "llms_json_bytes": len(llms), "previous_llms_json_bytes": len(before)}


def checkpoint_render() -> tuple[float, int]:
    """What a checkpoint costs the publish that owes it: the publisher's own rendering (median of 5
    runs, milliseconds) and the object's size, at MODELS models."""
    from publisher.core.model import to_record
    from publisher.publish.changelog import entry
    from publisher.publish.checkpoints import checkpoint_object
    from publisher.publish.feed import LOG_PENDING_KEY
    from publisher.publish.state import Change, State

    models = {r["model_name"]: r for r in (to_record(i) for i in synthetic_items(MODELS))}
    name = next(iter(models))
    change = Change(name, models[name], models[name], _stamp(START), "1", "stream")
    state = State(version=64, models=models, extra={LOG_PENDING_KEY: [entry(64, [change], _stamp(START))]})
    timings, size = [], 0
    for _ in range(5):
        started = time.perf_counter()
        rendered = checkpoint_object(state)
        timings.append((time.perf_counter() - started) * 1000)
        size = len(rendered.body) if rendered else 0
    return summary(timings)["median"], size


def main() -> None:
    from publisher.core.replay import CHECKPOINT_EVERY

    rng = random.Random(5)
    cold_versions = [rng.randint(1, VERSIONS) for _ in range(COLD_READS)]
    warm_versions = [rng.randint(1, VERSIONS) for _ in range(WARM_READS)]
    wanted = {v - v % CHECKPOINT_EVERY for v in cold_versions + warm_versions}
    print(f"as-of reads: {MODELS} models, {VERSIONS} versions, S3 latency {S3_LATENCY_MS} ms per request")
    load = round(os.getloadavg()[0], 2)  # the machine is shared: the figures are read against it
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-as-of-") as tmp:
        facts = build(Path(tmp), wanted)
        built_s = time.perf_counter() - started
        print(f"  history written in {built_s:.0f} s: logs {facts['log_bytes'] / 1e6:.0f} MB, "
              f"{len(wanted)} checkpoints")
        plan = {"root": tmp, "cold": cold_versions, "warm": warm_versions}
        child = subprocess.run([sys.executable, str(BENCH / "as_of_reader.py")], input=json.dumps(plan),
                               capture_output=True, text=True, check=True)
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    render_ms, checkpoint_size = checkpoint_render()
    cold, warm, same = measured["cold_ms"], measured["warm_ms"], measured["same_ms"]
    results = {
        "models": MODELS, "versions": VERSIONS, "s3_latency_ms": S3_LATENCY_MS, "checkpoint_every": CHECKPOINT_EVERY,
        "cold_p50_ms": round(summary(cold)["median"], 1), "cold_p99_ms": round(summary(cold)["p99"], 1),
        "cold_s3_requests": max(measured["cold_requests"]),
        "cold_s3_requests_median": sorted(measured["cold_requests"])[len(cold) // 2],
        "warm_p50_ms": round(summary(warm)["median"], 2), "warm_p99_ms": round(summary(warm)["p99"], 2),
        "warm_same_instant_p50_ms": round(summary(same)["median"], 3),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1), "read_memory_mb": READ_MEMORY_MB,
        "log_bytes": facts["log_bytes"], "llms_json_bytes": facts["llms_json_bytes"],
        "catch_up_wire_bytes": measured["catch_up_wire_bytes"],
        "catch_up_gzip_bytes": measured["catch_up_gzip_bytes"],
        "llms_json_gzip_bytes": measured["llms_json_gzip_bytes"],
        "catch_up_s3_requests": measured["catch_up_requests"],
        "checkpoint_render_ms": round(render_ms, 1), "checkpoint_bytes": checkpoint_size,
        "load_average_1m_at_start": load,
        "build_seconds": round(built_s, 1),
        "notes": "cold/warm: GET /api/llms?as_of through ReadApi in a child process, fake S3 sleeping "
                 "s3_latency_ms per request; cold_s3_requests is the most any cold read made (llms.json, "
                 "its array HEAD, the index, one checkpoint, the logs); catch-up: one model changed since "
                 "the version asked, body plus headers; see benchmarks/bench_as_of.py",
    }
    path = save("as_of", results)
    merge_results({"as_of_cold_ms": results["cold_p50_ms"], "as_of_warm_ms": results["warm_p50_ms"]})
    print(f"  cold as-of read: p50 {results['cold_p50_ms']} ms, p99 {results['cold_p99_ms']} ms, at most "
          f"{results['cold_s3_requests']} S3 requests (median {results['cold_s3_requests_median']})")
    print(f"  warm, another instant: p50 {results['warm_p50_ms']} ms, p99 {results['warm_p99_ms']} ms; "
          f"same instant p50 {results['warm_same_instant_p50_ms']} ms")
    print(f"  peak RSS of the reader {results['peak_rss_mb']} MB (the read function has {READ_MEMORY_MB} MB)")
    print(f"  catch-up on one changed model: /api/changes {results['catch_up_wire_bytes']} B on the wire "
          f"({results['catch_up_gzip_bytes']} B gzipped) against llms.json {facts['llms_json_bytes']} B "
          f"({results['llms_json_gzip_bytes']} B gzipped)")
    print(f"  a checkpoint ({checkpoint_size:,} B) renders in {results['checkpoint_render_ms']} ms in the publish "
          f"that owes it, one publish in {CHECKPOINT_EVERY}; load average at start {load}")
    print(f"  -> {path.relative_to(BENCH.parent)}")
    print(json.dumps({k: v for k, v in results.items() if k != "notes"}, sort_keys=True))


if __name__ == "__main__":
    main()
