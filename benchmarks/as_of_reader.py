"""The read side of bench_as_of.py, in its own process so its peak RSS is the read function's alone.

Reads a plan (JSON on stdin: the directory standing in for the bucket, the versions to read cold
and warm), serves the directory through a fake S3 client that sleeps on every request, and prints
one JSON line of figures.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bench_as_of import S3_LATENCY_MS, START, STEP, VERSIONS  # noqa: E402
from common import peak_rss_mb  # noqa: E402


class SlowS3:
    """get_object / head_object over files, S3_LATENCY_MS per request, counted; ETag = size-mtime."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests = 0
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        from botocore.exceptions import ClientError

        time.sleep(S3_LATENCY_MS / 1000)
        with self._lock:
            self.requests += 1
        path = self.root / key
        if not path.is_file():
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": key}}, "GetObject")
        return path

    def get_object(self, Bucket: str, Key: str, IfNoneMatch: str | None = None) -> dict[str, Any]:  # noqa: N803
        from botocore.exceptions import ClientError

        path = self._path(Key)
        etag = f'"{path.stat().st_size}-{path.stat().st_mtime_ns}"'
        if IfNoneMatch == etag:
            raise ClientError({"Error": {"Code": "304", "Message": "Not Modified"}}, "GetObject")
        return {"Body": io.BytesIO(path.read_bytes()), "ETag": etag, "Metadata": {}}

    def head_object(self, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:  # noqa: N803
        path = self._path(Key)
        return {"ETag": f'"{path.stat().st_size}"', "Metadata": {}}


def main() -> None:
    import boto3  # imported as the read function imports it: part of its memory

    from publisher.read import openapi
    from publisher.read.api import ReadApi
    from publisher.read.http import Request
    from publisher.read.source import SnapshotSource

    boto3.client("s3", region_name="us-east-1")
    plan = json.loads(sys.stdin.read())
    s3 = SlowS3(Path(plan["root"]))
    now = START + STEP * (VERSIONS + 1)
    query = "provider=OpenAI&min_score=90&limit=100&as_of="

    def fresh() -> ReadApi:
        source = SnapshotSource(lambda: s3, lambda: None, "bench", "llm_scores", revalidate_seconds=3600,
                                wall_clock=lambda: now)
        return ReadApi(source, openapi.document_bytes, retention_days=400)

    def read(api: ReadApi, version: int) -> float:
        instant = (START + STEP * version + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        started = time.perf_counter()
        response = api.handle(Request("GET", "/api/llms", query + instant))
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status == 200, response.body[:300]
        assert response.headers["X-Snapshot-Version"] == str(version), (version, response.headers)
        return elapsed

    cold, cold_requests = [], []
    for version in plan["cold"]:
        api = fresh()
        before = s3.requests
        cold.append(read(api, version))
        cold_requests.append(s3.requests - before)
    warm = [read(api, version) for version in plan["warm"]]
    same = [read(api, plan["warm"][-1]) for _ in range(50)]

    before = s3.requests
    response = api.handle(Request("GET", "/api/changes", f"since={VERSIONS - 1}"))
    assert response.status == 200 and json.loads(response.body)["count"] == 1, response.body[:300]
    catch_up_requests = s3.requests - before
    head = "".join(f"{k}: {v}\r\n" for k, v in response.headers.items()).encode()
    llms = (s3.root / "llms.json").read_bytes()
    print(json.dumps({
        "cold_ms": cold, "cold_requests": cold_requests, "warm_ms": warm, "same_ms": same,
        "peak_rss_mb": peak_rss_mb(), "catch_up_wire_bytes": len(head) + len(response.body),
        "catch_up_gzip_bytes": len(head) + len(gzip.compress(response.body)),
        "llms_json_gzip_bytes": len(gzip.compress(llms)), "catch_up_requests": catch_up_requests,
    }))


if __name__ == "__main__":
    main()
