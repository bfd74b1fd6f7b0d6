"""Load test of the local edge: 2,000 concurrent connections (wrk) while a writer republishes.

Runs wrk against `/llms.json` and a filtered `/api/llms` query, one after the other, while a writer
puts an item through the emulator every ~200 ms (so the snapshot is republished under load) and a
pool of verifier clients checks that every body is valid JSON and that no client ever sees the
snapshot version go backward. Exits non-zero on any error. Starts its own stack on free ports unless
--edge is given (then --endpoint names that stack's emulator).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from common import save  # noqa: E402
from wrk_runner import ensure_wrk, raise_nofile, run_wrk  # noqa: E402

from publisher.local.launch import LaunchedStack, http_get, launch  # noqa: E402

TARGETS = ("/llms.json", "/api/llms?provider=OpenAI&min_score=90")


class Writer(threading.Thread):
    """Puts one item every `interval` seconds through the emulator: each one is a republish."""

    def __init__(self, endpoint: str, interval: float) -> None:
        super().__init__(name="writer", daemon=True)
        import boto3

        self.client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="load",
            aws_secret_access_key="load",
        )
        self.interval = interval
        self.stopping = threading.Event()
        self.writes = 0
        self.errors = 0

    def run(self) -> None:
        rng = random.Random(5)
        while not self.stopping.is_set():
            item = {
                "model_name": {"S": f"Loadtest Model {self.writes % 25:02d}"},
                "provider": {"S": "OpenAI"},
                "score": {"N": f"{rng.uniform(90, 99.9):.1f}"},
                "context_window": {"N": "128000"},
            }
            try:
                self.client.put_item(TableName="llm_scores", Item=item)
                self.writes += 1
            except Exception as exc:  # counted and reported: a failed write is a failed test
                self.errors += 1
                print(f"writer error: {exc}", file=sys.stderr)
            self.stopping.wait(self.interval)

    def cleanup(self) -> None:
        for i in range(25):
            self.client.delete_item(
                TableName="llm_scores", Key={"model_name": {"S": f"Loadtest Model {i:02d}"}}
            )


@dataclass
class Verification:
    requests: int = 0
    invalid_json: int = 0
    backward: int = 0
    bad_status: int = 0
    errors: int = 0
    versions_seen: set[int] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)


class Verifier(threading.Thread):
    """`clients` aiohttp sessions, each looping over both targets and remembering its last version."""

    def __init__(self, edge: str, clients: int) -> None:
        super().__init__(name="verifier", daemon=True)
        self.edge = edge
        self.clients = clients
        self.result = Verification()
        self.stopping = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        await asyncio.gather(*(self._client(i) for i in range(self.clients)))

    async def _client(self, index: int) -> None:
        import aiohttp

        last: dict[str, int] = {}
        result = self.result
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self.stopping.is_set():
                for target in TARGETS:
                    try:
                        async with session.get(self.edge + target) as response:
                            body = await response.read()
                            status = response.status
                    except Exception as exc:
                        result.errors += 1
                        if len(result.examples) < 5:
                            result.examples.append(f"{target}: {type(exc).__name__}: {exc}")
                        continue
                    result.requests += 1
                    if status != 200:
                        result.bad_status += 1
                        if len(result.examples) < 5:
                            result.examples.append(f"{target}: HTTP {status}")
                        continue
                    try:
                        version = int(json.loads(body)["version"])
                    except (ValueError, KeyError, TypeError):
                        result.invalid_json += 1
                        continue
                    result.versions_seen.add(version)
                    if version < last.get(target, -1):
                        result.backward += 1
                        if len(result.examples) < 5:
                            result.examples.append(f"client {index} {target}: {last[target]} -> {version}")
                    last[target] = version


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--edge", help="use this running edge (e.g. http://127.0.0.1:8000) instead of starting one"
    )
    parser.add_argument("--endpoint", default="http://127.0.0.1:4566", help="its emulator (with --edge)")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=20, help="seconds per target")
    parser.add_argument("--verifiers", type=int, default=30)
    parser.add_argument("--write-interval", type=float, default=0.2)
    args = parser.parse_args()

    nofile = raise_nofile()
    if nofile < args.connections + 200:
        raise SystemExit(
            f"open files limit is {nofile}; {args.connections} connections need more (ulimit -n)"
        )
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        stack = LaunchedStack(args.edge.rstrip("/"), args.endpoint) if args.edge else launch(Path(tmp), timeout=90)
        writer = Writer(stack.endpoint, args.write_interval)
        verifier = Verifier(stack.edge, args.verifiers)
        try:
            stack.wait_published(30)
            _, _, body = http_get(stack.edge + "/llms.json")
            start_version = json.loads(body)["version"]
            print(
                f"edge {stack.edge}, snapshot v{start_version}; wrk {args.connections} connections x "
                f"{args.duration} s per target, writer every {args.write_interval * 1000:.0f} ms, "
                f"{args.verifiers} verifier clients"
            )
            writer.start()
            verifier.start()
            runs = [
                run_wrk(wrk, stack.edge + target, args.connections, args.threads, args.duration)
                for target in TARGETS
            ]
        finally:
            writer.stopping.set()
            verifier.stopping.set()
            writer.join(10)
            verifier.join(40)
            try:
                writer.cleanup()
            except Exception as exc:  # best effort: the stack may be gone
                print(f"cleanup: {exc}", file=sys.stderr)
            if not args.edge:
                stack.stop()

    check = verifier.result
    failed = False
    print(f"{'target':<42} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'requests':>9} {'errors':>7}")
    for run in runs:
        target = run["url"].removeprefix(stack.edge)
        print(
            f"{target:<42} {run['requests_per_s']:>9.0f} {run.get('p50_ms', 0):>9.1f} "
            f"{run.get('p99_ms', 0):>9.1f} {run['requests']:>9} {run['errors']:>7}  "
            f"(socket {run['socket_errors']}, non-2xx/3xx {run['non_2xx_3xx']})"
        )
        failed |= run["errors"] > 0 or run["requests"] == 0
    versions = sorted(check.versions_seen)
    print(
        f"writer: {writer.writes} puts, {writer.errors} errors; snapshot versions seen by the verifiers: "
        f"{versions[0] if versions else '-'}..{versions[-1] if versions else '-'} ({len(versions)} distinct)"
    )
    print(
        f"verifiers: {check.requests} responses, invalid JSON {check.invalid_json}, version went backward "
        f"{check.backward}, non-200 {check.bad_status}, client errors {check.errors}"
    )
    for example in check.examples:
        print(f"  e.g. {example}")
    failed |= bool(check.invalid_json or check.backward or check.bad_status or check.errors or writer.errors)
    failed |= len(versions) < 2  # the writer must actually have republished during the run
    save(
        "loadtest",
        {
            "connections": args.connections,
            "duration_s": args.duration,
            "write_interval_s": args.write_interval,
            "runs": [{k: v for k, v in run.items() if k != "raw"} for run in runs],
            "writer": {"writes": writer.writes, "errors": writer.errors},
            "verifier": {
                "responses": check.requests,
                "invalid_json": check.invalid_json,
                "backward": check.backward,
                "non_200": check.bad_status,
                "errors": check.errors,
                "distinct_versions": len(versions),
            },
            "passed": not failed,
        },
    )
    print("PASS" if not failed else "FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
