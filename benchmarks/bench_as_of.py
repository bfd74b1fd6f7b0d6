"""As-of reads at 10k models: latency and S3 cost of `GET /api/llms?as_of=` replayed from the log.

A log of VERSIONS versions over 10,000 models (version 1 adds them all, as a bulk seed does; each
later version changes 1 to 50 models, one in ten deletes one) is written as the publisher writes it
(changelog.py) into a dict standing in for S3, whose GETs are counted, not timed: in AWS each GET a
cold instance makes adds S3's latency (tens of ms each, sequential) on top of the figures here.
Measured through the read API's own code (as_of.VersionLog, the catalogue search):
- cold: a fresh instance's first as-of read (every log up to the current version fetched, parsed and
  replayed from empty);
- warm, other version: an instance that has the logs replays from the nearest state it kept;
- warm, same instant: the catalogue of that version is kept, only the query runs.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from common import merge_results, save, summary, synthetic_items  # noqa: E402

MODELS = 10_000
VERSIONS = 500
RUNS = 5
START = datetime(2026, 1, 1, tzinfo=UTC)
S3_GET_USD_PER_1000 = 0.0004  # scripts/prices.json s3_get_requests


def _record(item: dict[str, Any]) -> dict[str, Any]:
    from publisher.core.model import to_record

    return to_record(item)


def build_log() -> tuple[dict[str, bytes], list[datetime]]:
    from publisher.core.documents import log_key
    from publisher.publish.changelog import document, entry
    from publisher.publish.state import Change

    rng = random.Random(15)
    current = {r["model_name"]: r for r in (_record(i) for i in synthetic_items(MODELS))}
    objects: dict[str, bytes] = {}
    times = []
    for version in range(1, VERSIONS + 1):
        at = START + timedelta(seconds=version * 60)
        stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if version == 1:
            changes = [Change(n, None, current[n], stamp, str(i), "stream") for i, n in enumerate(sorted(current))]
        else:
            changes = []
            for name in rng.sample(sorted(current), rng.randint(1, 50)):
                old = current[name]
                new = {**old, "score": round(rng.uniform(40, 99.9), 1)}
                current[name] = new
                changes.append(Change(name, old, new, stamp, f"{version}-{name}", "stream"))
            if version % 10 == 0:
                gone = rng.choice(sorted(current))
                changes.append(Change(gone, current.pop(gone), None, stamp, f"{version}-x", "stream"))
        objects[log_key(version)] = document(entry(version, changes, stamp))
        times.append(at)
    return objects, times


def main() -> None:
    from publisher.read.as_of import VersionLog
    from publisher.read.query import parse_list_query

    print(f"as-of reads: {MODELS} models, {VERSIONS} versions in the log")
    objects, times = build_log()
    log_bytes = sum(len(b) for b in objects.values())
    now = times[-1] + timedelta(minutes=1)
    query = parse_list_query("provider=OpenAI&min_score=90&limit=100")
    gets: list[str] = []

    def fetch(key: str) -> bytes | None:
        gets.append(key)
        return objects.get(key)

    def read(log: VersionLog, instant: datetime) -> float:
        started = time.perf_counter()
        catalogue = log.catalogue(log.version_at(instant, VERSIONS))
        catalogue.search(query)
        return (time.perf_counter() - started) * 1000

    rng = random.Random(3)
    cold, cold_gets = [], []
    for _ in range(RUNS):
        gets.clear()
        cold.append(read(VersionLog(fetch, lambda: now), times[rng.randrange(VERSIONS // 2, VERSIONS)]
                         + timedelta(seconds=1)))
        cold_gets.append(len(gets))
    log = VersionLog(fetch, lambda: now)
    read(log, now)
    other = [read(log, times[rng.randrange(VERSIONS)] + timedelta(seconds=1)) for _ in range(RUNS * 4)]
    same_instant = times[VERSIONS // 2] + timedelta(seconds=1)
    read(log, same_instant)
    same = [read(log, same_instant) for _ in range(RUNS * 20)]

    gets_median = statistics.median(cold_gets)
    results = {
        "models": MODELS, "versions": VERSIONS, "log_bytes": log_bytes,
        "cold_ms": summary(cold), "cold_s3_gets": gets_median,
        "cold_s3_usd": round(gets_median * S3_GET_USD_PER_1000 / 1000, 8),
        "warm_other_version_ms": summary(other), "warm_same_instant_ms": summary(same),
        "notes": "in-process; S3 GETs counted (not timed) against a dict; see the module docstring",
    }
    path = save("as_of", results)
    merge_results({"as_of_cold_ms": round(statistics.median(cold), 1),
                   "as_of_warm_ms": round(statistics.median(other), 1)})
    print(f"  log of {VERSIONS} versions: {log_bytes / 1e6:.1f} MB")
    print(f"  cold as-of read: median {statistics.median(cold):.0f} ms, {gets_median:.0f} S3 GETs "
          f"(${results['cold_s3_usd']:.6f} in requests)")
    print(f"  warm, another version: median {statistics.median(other):.1f} ms (replay from the nearest kept state)")
    print(f"  warm, same instant: median {statistics.median(same):.2f} ms (only the query)")
    print(f"  -> {path.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
