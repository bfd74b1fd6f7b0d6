"""Game day: take a component of the local stack away under load and count what readers and writers saw.

Starts its own stack on free ports, runs the scenarios of publisher/local/gameday.py (control-plane
blackout, origin outage, read function outage, publisher crash loop during a bulk seed), prints one
table, writes benchmarks/results/gameday.json, and ends with one JSON line:
{"scenarios": [{"name", "read_ok_ratio", "static_read_ok_ratio", "api_read_ok_ratio", "max_staleness_s",
"versions_backward", "acked_writes", "lost_writes", "recovery_s"}, ...]}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from common import save  # noqa: E402

from publisher.local.gameday import SCENARIOS, GameDay, Timing  # noqa: E402
from publisher.local.gameday_metrics import JSON_KEYS, table  # noqa: E402
from publisher.local.launch import launch  # noqa: E402


def main() -> int:
    defaults = Timing()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", type=float, default=defaults.fault, help="seconds each fault stays on")
    parser.add_argument("--warmup", type=float, default=defaults.warmup)
    parser.add_argument("--settle", type=float, default=defaults.settle)
    parser.add_argument("--readers", type=int, default=defaults.readers, help="concurrent reader clients")
    parser.add_argument("--bulk", type=int, default=defaults.bulk_models, help="models the bulk seed writes")
    parser.add_argument("--only", action="append", default=[], help="run only scenarios whose name has this")
    args = parser.parse_args()
    timing = Timing(warmup=args.warmup, fault=args.fault, settle=args.settle, readers=args.readers,
                    bulk_models=args.bulk)
    scenarios = tuple(s for s in SCENARIOS if not args.only or any(o in s.name for o in args.only))
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="gameday-") as tmp:
        stack = launch(Path(tmp), timeout=90)
        try:
            print(f"stack: edge {stack.edge}, emulator {stack.endpoint}; {timing.readers} readers, a write every "
                  f"{timing.write_interval * 1000:.0f} ms; warm-up {timing.warmup:g} s, fault {timing.fault:g} s, "
                  f"settle {timing.settle:g} s", flush=True)
            day = GameDay(stack.edge, stack.endpoint, stack.log_path, timing,
                          out=lambda line: print(line, flush=True))
            results = day.run(scenarios)
        finally:
            stack.stop()
    print(table(results))
    save("gameday", {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                     "command": "make gameday", "timing": timing.__dict__, "scenarios": results})
    print(json.dumps({"scenarios": [{k: r[k] for k in JSON_KEYS} for r in results]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
