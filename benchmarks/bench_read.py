"""Read path: our read Lambda against the PoC's at 10k models (warm latency, cold-start proxy, import time).

Warm latency runs both handlers in-process on moto's `mock_aws` with the same 10k-item table. moto is
in-process, so there is no network: the PoC's figure is the CPU cost of one Scan page (moto building
~1 MB of items, botocore parsing them, the handler re-encoding them), not DynamoDB's latency, which
adds network time and read-capacity cost on top. Ours answers from memory and never calls AWS warm.

The cold-start proxy starts a fresh interpreter per run against one moto server on a free port and
measures spawn -> first answered request (interpreter start, imports, client creation, the first data
read), median of 5 (10 with --full), the two handlers interleaved (read_cold.py). The read function's
memory at 10k and 100k models is bench_read_memory.py's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from common import PROVIDERS, merge_results, save, summary, synthetic_items  # noqa: E402
from read_cold import BUCKET, CREDENTIALS, TABLE, cold, event, import_ms, publish_snapshot  # noqa: E402


def timed(call: Any, arguments: list[Any]) -> list[float]:
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        response = call(argument)
        samples.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response
    return samples


def warm(count: int, iterations: int, poc_iterations: int) -> dict[str, Any]:
    os.environ.update(CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from publisher import aws
    from publisher.local.resources import ensure_bucket, ensure_table
    from publisher.seed import seed

    rng = random.Random(11)
    with mock_aws():
        aws.reset_clients()
        ensure_table(aws.client("dynamodb"), TABLE)
        ensure_bucket(aws.client("s3"), BUCKET)
        started = time.perf_counter()
        seed(aws.client("dynamodb"), TABLE, synthetic_items(count))
        published = publish_snapshot(aws.client("s3"), aws.client("dynamodb"))
        print(f"  table and snapshot of {published} models ready in {time.perf_counter() - started:.1f} s")

        from publisher.handlers import read

        read.reset()
        first_started = time.perf_counter()
        first = read.handler(event("/api/llms", "provider=OpenAI&min_score=90"), None)
        first_ms = (time.perf_counter() - first_started) * 1000
        assert first["headers"]["X-Snapshot-Source"] == "s3", first["headers"]

        def ours(e: dict[str, Any]) -> dict[str, Any]:
            return read.handler(e, None)

        # Every filtered query is distinct (a fresh min_score), so the per-snapshot response memo
        # never answers it: this is the cost of filtering, sorting a page and encoding it.
        filtered = [
            event("/api/llms", f"provider={rng.choice(PROVIDERS)}&min_score={rng.uniform(50, 95):.4f}")
            for _ in range(iterations)
        ]
        repeated = [event("/api/llms", "provider=OpenAI&min_score=90")] * iterations
        lookups = [event(f"/api/llms/Model%20{rng.randrange(count):06d}") for _ in range(iterations)]
        heavy = [
            event(
                "/api/llms",
                f"q=model%200{rng.randrange(10)}&sort=-context_window&limit=500"
                f"&min_score={rng.uniform(40, 60):.4f}",
            )
            for _ in range(max(50, iterations // 10))
        ]
        for series in (filtered, lookups):
            timed(ours, series[:200])
        # A loose lookup (another case than the exact name) builds the catalogue's loose index on its
        # first use per snapshot version (timed here on a fresh index of the same catalogue, without
        # the handler around it); later ones are dictionary lookups. The emulator's objects are
        # frozen out of the garbage collector first: a Lambda's heap does not hold moto's state.
        import gc

        from publisher.identity import Directory

        names = Directory(read.api().source.current().by_name)
        gc.collect()
        gc.freeze()
        loose_started = time.perf_counter()
        assert names.resolve("model 000001").name == "Model 000001"
        loose_first_ms = (time.perf_counter() - loose_started) * 1000
        gc.unfreeze()
        loose = [event(f"/api/llms/model%20{rng.randrange(count):06d}") for _ in range(iterations)]
        results: dict[str, Any] = {
            "models": published,
            "ours_loose_lookup_first_ms": round(loose_first_ms, 2),
            "ours_loose_lookup": summary(timed(ours, loose)),
            "ours_first_request_ms": round(first_ms, 2),
            "ours_filtered": summary(timed(ours, filtered)),
            "ours_filtered_repeated": summary(timed(ours, repeated)),
            "ours_lookup": summary(timed(ours, lookups)),
            "ours_heavy_q_sort_limit500": summary(timed(ours, heavy)),
        }

        import baseline_poc

        def poc(e: dict[str, Any]) -> dict[str, Any]:
            with contextlib.redirect_stdout(io.StringIO()):
                return baseline_poc.handler(e, None)

        poc_first = poc(event("/llms"))
        returned = len(json.loads(poc_first["body"]))
        results["poc_items_returned"] = returned
        results["poc"] = summary(timed(poc, [event("/llms")] * poc_iterations))
        results["poc_client_cpu_floor"] = summary(poc_client_cpu(baseline_poc.table.meta.client, 10))
    aws.reset_clients()
    return results


def poc_at_sample_size(iterations: int) -> dict[str, Any]:
    """The PoC on a table the size of its real one (the sample catalogue), for the cost model."""
    os.environ.update(CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from publisher import aws
    from publisher.local.resources import ensure_table
    from publisher.seed import sample_models, seed

    with mock_aws():
        aws.reset_clients()
        ensure_table(aws.client("dynamodb"), TABLE)
        seed(aws.client("dynamodb"), TABLE, sample_models())
        import importlib

        import baseline_poc

        baseline_poc = importlib.reload(baseline_poc)  # its module-level resource binds to this mock

        def poc(e: dict[str, Any]) -> dict[str, Any]:
            with contextlib.redirect_stdout(io.StringIO()):
                return baseline_poc.handler(e, None)

        poc(event("/llms"))
        result = summary(timed(poc, [event("/llms")] * iterations))
    aws.reset_clients()
    return result


def poc_client_cpu(client: Any, runs: int) -> list[float]:
    """The PoC's own CPU per request, no server: parse one recorded Scan page, deserialize, re-encode.

    A floor for its billed duration on real DynamoDB, which adds the Scan's service and network time.
    """
    import baseline_poc
    import botocore.parsers
    from boto3.dynamodb.types import TypeDeserializer

    captured: list[bytes] = []
    client.meta.events.register(
        "before-parse.dynamodb.Scan", lambda response_dict, **_: captured.append(response_dict["body"])
    )
    client.scan(TableName=TABLE)
    raw = captured[-1]
    shape = client.meta.service_model.operation_model("Scan").output_shape
    parser = botocore.parsers.create_parser("json")
    deserializer = TypeDeserializer()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        parsed = parser.parse({"body": raw, "headers": {}, "status_code": 200}, shape)
        items = [{k: deserializer.deserialize(v) for k, v in item.items()} for item in parsed["Items"]]
        json.dumps(items, cls=baseline_poc.DecimalEncoder)
        samples.append((time.perf_counter() - started) * 1000)
    return samples



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=3000, help="warm requests per series (ours)")
    parser.add_argument("--poc-iterations", type=int, default=None,
                        help="warm requests of the PoC (5; 20 with --full: each scans 10k items in moto)")
    parser.add_argument("--cold-runs", type=int, default=None, help="fresh processes per handler (5; 10 with --full)")
    parser.add_argument("--full", action="store_true", help="more samples of the PoC and of cold starts")
    args = parser.parse_args()
    args.poc_iterations = args.poc_iterations or (20 if args.full else 5)
    args.cold_runs = args.cold_runs or (10 if args.full else 5)

    print(f"read benchmark at {args.models} models")
    results: dict[str, Any] = {"warm": warm(args.models, args.iterations, args.poc_iterations)}
    results["poc_sample_size"] = poc_at_sample_size(200)
    results["cold_start"] = cold(args.models, args.cold_runs)
    # The PoC's real table is tiny: compare cold starts there too, where its scan costs little.
    results["cold_start_small"] = cold(30, args.cold_runs)
    results["import_ms"] = {
        "publisher.handlers.read": import_ms("publisher.handlers.read", 7),
        "baseline_poc": import_ms("baseline_poc", 7),
    }
    w, c, imp = results["warm"], results["cold_start"], results["import_ms"]
    ratio = w["poc"]["median"] / w["ours_filtered"]["median"]
    results["ratio_poc_over_ours_median"] = round(ratio, 1)
    results["ratio_poc_cpu_floor_over_ours_median"] = round(
        w["poc_client_cpu_floor"]["median"] / w["ours_filtered"]["median"], 1
    )
    results["cold_ratio_ours_over_poc"] = round(c["ours"]["median"] / c["poc"]["median"], 3)
    path = save("read", results)
    merge_results(
        {
            # The PoC's real table is a few dozen items: its per-request cost at that size is the
            # fair input for the cost model (the 10k figure is mostly moto's scan).
            "poc_handler_ms": round(results["poc_sample_size"]["median"], 3),
            "poc_handler_ms_10k": round(w["poc"]["median"], 3),
            "read_handler_ms": round(w["ours_filtered"]["median"], 3),
        }
    )

    def line(label: str, s: dict[str, float]) -> str:
        return f"  {label:<44} median {s['median']:9.3f} ms   p99 {s['p99']:9.3f} ms   (n={s['n']})"

    print("warm handler latency (in-process, moto mock_aws):")
    print(line("ours: filtered (provider + min_score, distinct)", w["ours_filtered"]))
    print(line("ours: same filtered query repeated (memoised)", w["ours_filtered_repeated"]))
    print(line("ours: single lookup", w["ours_lookup"]))
    print(line("ours: lookup in another case (loose index built)", w["ours_loose_lookup"]))
    print(f"  ours: first loose lookup of a snapshot version (builds the index): "
          f"{w['ours_loose_lookup_first_ms']:.1f} ms")
    print(line("ours: q + sort + limit=500", w["ours_heavy_q_sort_limit500"]))
    print(line(f"PoC: GET /llms (one Scan page: {w['poc_items_returned']} of {w['models']} items)", w["poc"]))
    print(line("PoC CPU floor (parse + deserialize + encode, no server)", w["poc_client_cpu_floor"]))
    print(line("PoC: GET /llms on the sample catalogue (29 items)", results["poc_sample_size"]))
    print(
        f"  ratio PoC / ours (median, filtered): {ratio:.0f}x; ours first request (S3 load + index): "
        f"{w['ours_first_request_ms']:.0f} ms"
    )
    print(f"cold-start proxy (fresh process -> first answer, same moto server, median of {args.cold_runs}):")
    print(line("ours", c["ours"]))
    print(line("PoC", c["poc"]))
    small = results["cold_start_small"]
    print(f"cold-start proxy at 30 models (the PoC's real table size), median of {args.cold_runs}:")
    print(line("ours", small["ours"]))
    print(line("PoC", small["poc"]))
    print(
        f"import time: publisher.handlers.read {imp['publisher.handlers.read']:.1f} ms, "
        f"baseline_poc {imp['baseline_poc']:.1f} ms (its boto3 import and resource)"
    )
    print(f"results: {path.relative_to(REPO)} and benchmarks/results.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
