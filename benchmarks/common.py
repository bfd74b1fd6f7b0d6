"""Shared helpers for the benchmarks: synthetic catalogues and robust statistics."""

from __future__ import annotations

import json
import random
import statistics
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PROVIDERS = ["OpenAI", "Anthropic", "Google", "Meta", "Mistral AI", "Cohere", "DeepSeek", "Alibaba", "xAI",
             "Microsoft", "Amazon", "AI21", "Reka", "01.AI", "Nvidia"]


def synthetic_items(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Items shaped like the real catalogue (optional fields present on most)."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        item: dict[str, Any] = {
            "model_name": f"Model {i:06d}",
            "provider": PROVIDERS[i % len(PROVIDERS)],
            "score": Decimal(str(round(rng.uniform(40, 99.9), 1))),
            "context_window": Decimal(rng.choice([4096, 8192, 32768, 128000, 200000, 1000000])),
        }
        if i % 4:
            item["version"] = f"v{rng.randint(1, 9)}.{rng.randint(0, 9)}"
            item["release_date"] = f"202{rng.randint(2, 6)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            item["benchmarks"] = {"mmlu": Decimal(str(round(rng.uniform(50, 92), 1)))}
        items.append(item)
    return items


def largest_items(count: int, start: int = 0) -> list[dict[str, Any]]:
    """Valid items at every limit of publisher/core/model.py, in the widest UTF-8 (3-byte characters)."""
    from publisher.core.model import (
        MAX_BENCHMARK_NAME_LEN,
        MAX_BENCHMARKS,
        MAX_CONTEXT_WINDOW,
        MAX_NAME_LEN,
        MAX_PROVIDER_LEN,
        MAX_VERSION_LEN,
    )

    wide = "\u6a21"  # 3 bytes in UTF-8
    items = []
    for i in range(start, start + count):
        tag = f"{i:08d}"
        items.append({
            "model_name": wide * (MAX_NAME_LEN - len(tag)) + tag,
            "provider": wide * (MAX_PROVIDER_LEN - 2) + f"{i % 100:02d}",
            "score": Decimal("99.99999999999999"),
            "context_window": Decimal(MAX_CONTEXT_WINDOW),
            "version": wide * MAX_VERSION_LEN,
            "release_date": "2024-12-31",
            "benchmarks": {wide * (MAX_BENCHMARK_NAME_LEN - 2) + f"{b:02d}": Decimal("12345678901234567.12345678901")
                           for b in range(MAX_BENCHMARKS)},
            "updated_at": "2024-12-31T23:59:59.999999+00:00",
        })
    return items


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM): unlike ru_maxrss it does not carry the parent's
    high-water mark over fork and exec."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p99": percentile(values, 99), "min": min(values),
            "max": max(values), "n": len(values)}


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def save_rows(name: str, rows: list[dict[str, Any]], identity: tuple[str, ...], **extra: Any) -> Path:
    """Save `rows` into results/<name>.json, keeping the rows of an earlier run that this one did
    not measure (a quick run leaves the --full run's 100k rows); each row says when it was measured."""
    import time

    path = RESULTS / f"{name}.json"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    fresh = {tuple(row[k] for k in identity): {**row, "measured_at": stamp} for row in rows}
    earlier = json.loads(path.read_text()).get("results", []) if path.exists() else []
    kept = [row for row in earlier if tuple(row.get(k) for k in identity) not in fresh and "measured_at" in row]
    merged = sorted([*kept, *fresh.values()], key=lambda row: tuple(str(row.get(k)) for k in identity))
    return save(name, {**extra, "results": merged})


def merge_results(values: dict[str, Any]) -> None:
    """Merge headline figures into benchmarks/results.json (read by the cost model)."""
    path = Path(__file__).resolve().parent / "results.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(values)
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
