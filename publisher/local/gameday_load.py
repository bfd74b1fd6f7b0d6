"""The game day's steady load: readers of every public path and a writer, each recording what it saw.

The writer adds one model every `interval` seconds (`Game Day 000001`, ...), retrying what DynamoDB
refuses, and records when each write was acknowledged. Its models are added in order and the stream
keeps that order, so a snapshot holds a prefix of them: the number a version holds says which
acknowledged writes it is missing, hence how stale a reader that saw it was. Readers are tens of
asyncio clients on loopback, each looping over the paths and recording status and snapshot version.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

WRITER_PROVIDER = "Game Day"
BULK_PROVIDER = "Game Day Bulk"
STATIC = "static"
API = "api"
VERSION_HEADERS = ("x-amz-meta-snapshot-version", "X-Snapshot-Version")


def writer_name(seq: int) -> str:
    return f"{WRITER_PROVIDER} {seq:06d}"


def dynamodb_client(endpoint: str) -> Any:
    """A client that tries once and fails fast: the caller decides how to retry."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="gameday",
                        aws_secret_access_key="gameday",  # noqa: S106 - the emulator's dummy key
                        config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1,
                                      read_timeout=3))


@dataclass
class Ledger:
    """Every acknowledged write (monotonic ack times, index i is seq i+1) and refusals, across scenarios."""

    acked: list[float] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count_before(self, moment: float) -> int:
        with self.lock:
            return bisect_right(self.acked, moment)


class Writer(threading.Thread):
    def __init__(self, endpoint: str, table: str, ledger: Ledger, interval: float) -> None:
        super().__init__(name="gameday-writer", daemon=True)
        self.client = dynamodb_client(endpoint)
        self.table = table
        self.ledger = ledger
        self.interval = interval
        self.stopping = threading.Event()
        self.running = threading.Event()  # cleared: the writer holds its next write until set again
        self.running.set()

    def run(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        rng = random.Random(len(self.ledger.acked))
        while not self.stopping.is_set():
            if not self.running.wait(0.1):
                continue
            seq = len(self.ledger.acked) + 1
            item = {"model_name": {"S": writer_name(seq)}, "provider": {"S": WRITER_PROVIDER},
                    "score": {"N": f"{rng.uniform(10, 99):.1f}"}, "context_window": {"N": "8192"}}
            try:
                self.client.put_item(TableName=self.table, Item=item)
            except (ClientError, BotoCoreError):
                with self.ledger.lock:
                    self.ledger.refused += 1
                self.stopping.wait(0.1)  # the same item again: a put is idempotent
                continue
            with self.ledger.lock:
                self.ledger.acked.append(time.monotonic())
            self.stopping.wait(self.interval)


@dataclass(frozen=True)
class Path:
    label: str
    url: str
    kind: str  # STATIC or API
    tracks_freshness: bool = True  # a dated snapshot is a day's, by design


@dataclass(frozen=True)
class Read:
    at: float
    client: int
    label: str
    status: int  # 0: no answer (timeout, connection refused)
    version: int | None


def snapshot_holdings(body: bytes) -> tuple[int, int, int] | None:
    """(version, writer models, bulk models) held by an /llms.json body."""
    try:
        document = json.loads(body)
        providers = [m.get("provider") for m in document["models"]]
        return int(document["version"]), providers.count(WRITER_PROVIDER), providers.count(BULK_PROVIDER)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class Readers(threading.Thread):
    """`clients` concurrent readers on an event loop of their own, each over `paths` in turn."""

    def __init__(self, edge: str, paths: list[Path], clients: int, holdings: dict[int, int],
                 pause: float = 0.05, timeout: float = 5.0) -> None:
        super().__init__(name="gameday-readers", daemon=True)
        self.edge = edge
        self.paths = paths
        self.clients = clients
        self.pause = pause
        self.timeout = timeout
        self.reads: list[Read] = []
        self.holdings = holdings  # snapshot version -> writer models it holds (kept across scenarios)
        self.stopping = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.clients)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await asyncio.gather(*(self._client(session, i) for i in range(self.clients)))

    async def _client(self, session: Any, index: int) -> None:
        turn = index
        while not self.stopping.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            status, version = 0, None
            try:
                async with session.get(self.edge + path.url) as response:
                    body = await response.read()
                    status = response.status
                    raw = next((response.headers[h] for h in VERSION_HEADERS if h in response.headers), None)
                    version = int(raw) if raw and raw.isdigit() else None
                    if path.url == "/llms.json" and status == 200 and version not in self.holdings:
                        held = snapshot_holdings(body)
                        if held:
                            self.holdings[held[0]] = held[1]
            except (TimeoutError, OSError, ValueError, Exception):  # noqa: BLE001 - any failure is a failed read
                status = 0
            self.reads.append(Read(time.monotonic(), index, path.label, status, version))
            await asyncio.sleep(self.pause)


def reader_paths(edge_get: Any, slug: Any) -> list[Path]:
    """The paths a reader of the service visits. `edge_get(path)` -> (status, headers, body) finds the
    newest dated snapshot; `slug(name)` is the name's key (publisher/core/identity.py)."""
    status, _, body = edge_get("/snapshots/index.json")
    dated = json.loads(body)["snapshots"][-1]["url"] if status == 200 else "/snapshots/index.json"
    return [
        Path("list", "/llms.json", STATIC),
        Path("legacy list", "/llms", STATIC),
        Path("page", "/", STATIC),
        Path("provider file", f"/providers/{slug(WRITER_PROVIDER)}.json", STATIC),
        Path("feed", "/changes.json", STATIC),
        Path("dated snapshot", dated, STATIC, tracks_freshness=False),
        Path("history", f"/history/{slug('GPT-4')}.json", API),
        Path("api filter", "/api/llms?provider=Game%20Day&limit=20", API),
        Path("api query", "/api/llms?provider=OpenAI&min_score=90", API),
    ]
