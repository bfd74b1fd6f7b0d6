"""The simulated pipeline: a table and its stream (two shards), the event source mapping's delivery
(partial batch responses, bisect on error, bounded retries, a DLQ, duplicates after a lost
checkpoint), scheduled rebuilds, and faults at every call of the publisher's S3 and DynamoDB clients.

Everything is drawn from one seed. The publisher, its store, the feed and the stream handler are the
project's real code; only the two clients are fakes (fakes.py) wrapped in faults (faults.py).
"""

from __future__ import annotations

import logging
import random
import zlib
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from publisher.core import history_shards
from publisher.core.config import Config
from publisher.core.ddb import scan_items, serialize
from publisher.core.heartbeat import HEARTBEAT_KEY, written_at
from publisher.publish import changelog, extensions, migrate
from publisher.publish import handler as publish
from publisher.publish import publisher as publisher_module
from publisher.publish import store as store_module
from publisher.publish.publisher import Publisher
from publisher.publish.store import SiteStore
from tests.sim.fakes import FakeDynamoDB, FakeS3
from tests.sim.faults import INTERLEAVE_POINTS, Crash, Faulty, Plan

BUCKET = "sim-site"
TABLE = "llm_scores"
# Names that slug alike (and a few that do not): every one must keep its own files.
NAMES = ("Twin A", "twin-a", "TWIN  A", "Solo", "Échelle 1", "GPT-4", "gpt 4", "Zed")
PROVIDERS = ("Lab", "lab", "LAB!", "Other Lab", "Ünï", "Solo Co")
CONFIG = Config(table_name=TABLE, site_bucket=BUCKET, changes_limit=50, history_limit=500)
START = datetime(2026, 3, 1, 23, 58, 30, tzinfo=UTC)  # the run crosses midnight: two dated snapshots


@dataclass
class Shard:
    records: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: int = 0
    size: int = 0  # the batch size after bisecting (0: the mapping's own)
    attempts: int = 0
    replays: int = 0


@dataclass
class World:
    seed: int
    rng: random.Random
    s3: FakeS3 = field(default_factory=FakeS3)
    table: dict[str, dict[str, Any]] = field(default_factory=dict)
    shards: tuple[Shard, Shard] = field(default_factory=lambda: (Shard(), Shard()))
    clock: datetime = START
    sequence: int = 10**20
    invocations: int = 0
    dlq: list[dict[str, Any]] = field(default_factory=list)
    seen: list[bytes] = field(default_factory=list)  # every llms.json readers could have seen, in order
    events: list[str] = field(default_factory=list)
    rate: float = 0.0
    batch: int = 5
    max_retries: int = 2
    faults_on: bool = True

    def __post_init__(self) -> None:
        self.s3.on_put.append(lambda key, body: self.seen.append(body) if key == "llms.json" else None)

    # -- the table and its stream ------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock

    def write(self, key: str, item: dict[str, Any] | None) -> None:
        self.clock += timedelta(milliseconds=self.rng.choice((0, 0, 300, 1000, 2500)))
        old = self.table.get(key)
        if old == item or (old is None and item is None):
            return  # DynamoDB streams nothing for a write that changes nothing
        if item is None:
            del self.table[key]
        else:
            self.table[key] = item
        self.sequence += self.rng.randint(1, 1000)
        body: dict[str, Any] = {"ApproximateCreationDateTime": float(int(self.clock.timestamp())),
                                "Keys": {"model_name": {"S": key}}, "SequenceNumber": str(self.sequence),
                                "StreamViewType": "NEW_AND_OLD_IMAGES", "SizeBytes": 100}
        if item is not None:
            body["NewImage"] = serialize(item)["M"]
        if old is not None:
            body["OldImage"] = serialize(old)["M"]
        name = "REMOVE" if item is None else ("INSERT" if old is None else "MODIFY")
        self.shards[zlib.crc32(key.encode()) % 2].records.append(
            {"eventID": str(self.sequence), "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body})

    # -- invocations ----------------------------------------------------------------------------------
    def publisher(self, plan: Plan) -> Publisher:
        pub = Publisher(store=SiteStore(Faulty(self.s3, plan), BUCKET), now=self.now, sleep=lambda _: None)
        extensions.install(pub, CONFIG)
        return pub

    def plan(self, faults: bool, interloper: Any = None) -> Plan:
        self.invocations += 1
        plan = Plan(f"{self.seed}:{self.invocations}", self.rate if faults and self.faults_on else 0.0)
        if faults and self.faults_on and interloper is not None and self.rng.random() < 0.3:
            op, prefix = self.rng.choice(INTERLEAVE_POINTS)
            plan.interleave, plan.interloper = (op, prefix, self.rng.randint(0, 1)), interloper
        return plan

    def invoke(self, run: Any, plan: Plan) -> tuple[str, Any]:
        """('ok', result) | ('error', exception): a crash or an unhandled error fails the invocation."""
        try:
            return "ok", run(self.publisher(plan))
        except (Crash, Exception) as exc:  # noqa: BLE001 - the event source mapping sees any failure
            return "error", exc
        finally:
            publish.metrics.clear_metrics()
            self.events.extend(plan.log)

    def rebuild(self, faults: bool = True) -> None:
        plan = self.plan(faults, self._interloper(faults))
        dynamodb = Faulty(FakeDynamoDB(self.table), plan)
        outcome, value = self.invoke(lambda pub: pub.rebuild(lambda: scan_items(dynamodb, TABLE)), plan)
        self.events.append(f"rebuild: {outcome} {type(value).__name__ if outcome == 'error' else ''}")

    def _interloper(self, faults: bool, busy: Shard | None = None) -> Any:
        """A rebuild, or the other shard's next delivery (a shard never runs two at once)."""
        if not (faults and self.faults_on):
            return None
        others = [s for s in self.shards if s is not busy]
        if busy is None or self.rng.random() < 0.4:
            return lambda: self.rebuild(faults=False)
        return lambda: self.deliver(others[0], faults=False)

    def deliver(self, shard: Shard, faults: bool = True) -> bool:
        """One delivery of the shard's next batch, as the event source mapping makes it. False: nothing to do."""
        if shard.checkpoint >= len(shard.records):
            return False
        size = shard.size or self.batch
        batch = shard.records[shard.checkpoint:shard.checkpoint + size]
        plan = self.plan(faults, self._interloper(faults, shard))
        outcome, value = self.invoke(lambda pub: publish.handle_stream({"Records": batch}, pub), plan)
        failed = None
        if outcome == "ok":
            sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
            failures = [f["itemIdentifier"] for f in value.get("batchItemFailures", [])]
            failed = min((sequences.index(s) for s in failures if s in sequences), default=None)
            if failed is None:
                self.events.append(f"delivered {len(batch)}")
                if faults and self.faults_on and shard.replays < 3 and self.rng.random() < 0.1:
                    shard.replays += 1  # the checkpoint was lost: the same batch comes again
                    return True
                shard.checkpoint += len(batch)
                shard.size = shard.attempts = 0
                return True
            shard.checkpoint += failed  # records before the first failure are done
            batch = batch[failed:]
        shard.attempts += 1
        if shard.attempts > self.max_retries:
            self.dlq.extend(batch)  # on-failure destination: the mapping moves past them
            self.events.append(f"dlq {len(batch)}")
            shard.checkpoint += len(batch)
            shard.size = shard.attempts = 0
        elif outcome == "error" and len(batch) > 1:
            shard.size = max(1, len(batch) // 2)  # BisectBatchOnFunctionError
        return True

    def heartbeat(self) -> None:
        self.write(HEARTBEAT_KEY, {"model_name": HEARTBEAT_KEY, "run_id": f"run{self.rng.randint(0, 999)}",
                                   "written_at": written_at(self.clock)})

    def settle(self) -> None:
        """Faults off; every shard drained; then the canary's next heartbeat, drained too.

        A batch that committed and then went to the DLQ leaves the site behind the state until the
        next invocation: the canary's heartbeat (every few minutes) is the one that always comes.
        """
        self.faults_on = False
        while any(self.deliver(shard, faults=False) for shard in self.shards):
            pass
        self.clock += timedelta(minutes=5)
        self.heartbeat()
        while any(self.deliver(shard, faults=False) for shard in self.shards):
            pass


def valid_item(rng: random.Random, name: str, clock: datetime) -> dict[str, Any]:
    item: dict[str, Any] = {"model_name": name, "provider": rng.choice(PROVIDERS),
                            "score": Decimal(rng.randint(0, 1000)) / 10}
    if rng.random() < 0.6:
        item["context_window"] = rng.choice((8192, 128000, 1_000_000))
    if rng.random() < 0.4:
        item["benchmarks"] = {"mmlu": Decimal(rng.randint(0, 100)), "arc": Decimal(rng.randint(0, 100))}
    if rng.random() < 0.3:
        item["updated_at"] = clock.isoformat().replace("+00:00", "Z")
    return item


def invalid_item(rng: random.Random, name: str) -> dict[str, Any]:
    return rng.choice(({"model_name": name, "score": Decimal(5)},
                       {"model_name": name, "provider": "Lab", "score": "n/a"},
                       {"model_name": name, "provider": "Lab", "score": Decimal(101)},
                       {"model_name": name, "provider": "L\x07b", "score": Decimal(1)}))


class SerialExecutor:
    """The publisher's thread pools, run in the calling thread: one schedule per seed, as in
    FoundationDB's simulator (a crash stops every later call of the invocation, in a fixed order)."""

    def __init__(self, max_workers: int | None = None) -> None:
        pass

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def map(self, fn: Any, *iterables: Any) -> Any:
        return [fn(*args) for args in zip(*iterables, strict=True)]

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - a crash too is the future's outcome
            future.set_exception(exc)
        return future


POOLED = (publisher_module, store_module, history_shards, migrate)
_ACTIVE: list[World] = []


@contextmanager
def simulated() -> Iterator[None]:
    """Serial thread pools and the simulated clock for the version log, restored afterwards."""
    pools = [(module, module.ThreadPoolExecutor) for module in POOLED]  # type: ignore[attr-defined]
    committed_now = changelog.committed_now
    for module, _ in pools:
        module.ThreadPoolExecutor = SerialExecutor  # type: ignore[attr-defined]
    # The version log's commit time is wall time: the simulated clock instead, so a seed replays.
    changelog.committed_now = lambda: _ACTIVE[-1].clock.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        yield
    finally:
        for module, pool in pools:
            module.ThreadPoolExecutor = pool  # type: ignore[attr-defined]
        changelog.committed_now = committed_now


def run(seed: int, steps: int = 40) -> World:
    """Drive one seeded run to the settled state (inside `simulated()`); the caller checks the invariants."""
    logging.getLogger().setLevel(logging.CRITICAL)
    publish.logger.setLevel(logging.CRITICAL)
    rng = random.Random(seed)
    world = World(seed, rng, rate=rng.choice((0.0, 0.02, 0.05, 0.1)), batch=rng.randint(1, 8),
                  max_retries=rng.randint(1, 3))
    _ACTIVE[:] = [world]
    for _ in range(steps):
        roll = rng.random()
        name = rng.choice(NAMES)
        if roll < 0.45:
            item = world.table.get(name)
            if item is not None and rng.random() < 0.6 and "provider" in item:
                world.write(name, {**item, "score": Decimal(rng.randint(0, 1000)) / 10})
            else:
                world.write(name, valid_item(rng, name, world.clock))
        elif roll < 0.6:
            world.write(name, None)
        elif roll < 0.67:
            world.write(name, invalid_item(rng, name))
        elif roll < 0.75:
            for burst in rng.sample(NAMES, rng.randint(2, 5)):  # a burst: several writes in one instant
                world.sequence += 1
                world.write(burst, valid_item(rng, burst, world.clock))
        elif roll < 0.82:
            world.heartbeat()
        elif roll < 0.86:
            world.rebuild()
        for _ in range(rng.randint(0, 3)):
            world.deliver(rng.choice(world.shards))
    world.settle()
    return world
