"""The page at 100k models: its size and render time with the 2,000-row cap, and what an uncapped table would be.

Renders `index.html` in-process (jinja2, as the publisher does) for a synthetic 100,000-model catalogue,
median of 3, once with `PAGE_ROW_LIMIT` as shipped and once with it lifted.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from common import save, synthetic_items  # noqa: E402

MODELS = 100_000
RUNS = 3


def render(models: dict[str, dict], limit: int) -> tuple[float, int]:
    from publisher.publish import render as rendering

    shipped = rendering.PAGE_ROW_LIMIT
    rendering.PAGE_ROW_LIMIT = limit
    try:
        times, size = [], 0
        for _ in range(RUNS):
            started = time.perf_counter()
            objects = rendering.render_site(1, "2026-01-01T00:00:00Z", models)
            times.append((time.perf_counter() - started) * 1000)
            size = len(next(o for o in objects if o.key == "index.html").body)
        return statistics.median(times), size
    finally:
        rendering.PAGE_ROW_LIMIT = shipped


def main() -> int:
    from publisher.core.model import to_record
    from publisher.publish.render import PAGE_ROW_LIMIT

    models = {r["model_name"]: r for r in (to_record(item) for item in synthetic_items(MODELS))}
    capped_ms, capped_bytes = render(models, PAGE_ROW_LIMIT)
    full_ms, full_bytes = render(models, MODELS)
    results = {"models": MODELS, "runs": RUNS, "row_limit": PAGE_ROW_LIMIT,
               "capped": {"render_site_ms": round(capped_ms, 1), "page_bytes": capped_bytes},
               "uncapped": {"render_site_ms": round(full_ms, 1), "page_bytes": full_bytes}}
    path = save("page", results)
    print(f"render_site at {MODELS} models (all objects, median of {RUNS}):")
    print(f"  page capped at {PAGE_ROW_LIMIT} rows: {capped_bytes / 1e6:.1f} MB page, {capped_ms:.0f} ms")
    print(f"  page with every row:     {full_bytes / 1e6:.1f} MB page, {full_ms:.0f} ms")
    print(f"results: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
