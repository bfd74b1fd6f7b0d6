"""Faults at every I/O call of one invocation, decided by the seed alone.

Each call's fate is drawn from (seed, invocation, operation, key, n-th such call), never from a
shared sequence, so the publisher's worker threads cannot reorder the draws: a seed replays exactly.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from tests.sim.fakes import client_error

WRITES = frozenset({"put_object", "delete_object"})
# Where another publisher (or a rebuild) may run to completion inside this one: (operation, key prefix).
INTERLEAVE_POINTS = (
    ("get_object", "internal/state.json"), ("put_object", "internal/state.json"), ("head_object", "llms.json"),
    ("put_object", "llms.json"), ("put_object", "providers/"), ("head_object", "providers/"),
    ("delete_object", "providers/"), ("put_object", "changes.json"), ("get_object", "internal/history/"),
    ("scan", ""),
)


class Crash(BaseException):  # noqa: N818 - not an error the code may catch: the process is gone
    """The Lambda process died (timeout, OOM, a kill): nothing after it runs."""


@dataclass
class Plan:
    """One invocation's faults: a rate per call, and at most one interleaving point."""

    seed: str
    rate: float = 0.0
    interleave: tuple[str, str, int] | None = None
    interloper: Callable[[], None] | None = None
    dead: bool = False
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def draw(self, op: str, key: str) -> tuple[random.Random, int]:
        with self.lock:
            n = self.counts.get((op, key), 0)
            self.counts[(op, key)] = n + 1
        return random.Random(f"{self.seed}:{op}:{key}:{n}"), n


class Faulty:
    """Wraps a fake client: every call may fail before, fail after it landed, or crash the process."""

    def __init__(self, client: Any, plan: Plan) -> None:
        self.client = client
        self.plan = plan

    def __getattr__(self, name: str) -> Any:
        if name == "get_paginator":
            return lambda op: _Paginator(self, op)
        target = getattr(self.client, name)
        return lambda **kwargs: self.call(name, target, kwargs)

    def call(self, op: str, target: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        plan = self.plan
        if plan.dead:
            raise Crash(f"{op} after the crash")
        key = str(kwargs.get("Key", kwargs.get("Prefix", "")))
        rng, n = plan.draw(op, key)
        point = plan.interleave
        if point is not None and plan.interloper is not None and op == point[0] and key.startswith(point[1]) \
                and n == point[2]:
            interloper, plan.interloper = plan.interloper, None
            plan.log.append(f"interleave at {op} {key}")
            interloper()
        if rng.random() >= plan.rate:
            return target(**kwargs)
        fault = rng.choice(("throttle", "5xx", "connection", "lost_reply", "crash_before", "crash_after"))
        plan.log.append(f"{fault} at {op} {key}")
        if fault == "throttle":
            raise client_error("SlowDown" if op != "scan" else "ProvisionedThroughputExceededException", 503, op)
        if fault == "5xx":
            raise client_error("InternalError", 500, op)
        if fault == "connection":
            raise EndpointConnectionError(endpoint_url="http://sim")
        if fault == "crash_before":
            plan.dead = True
            raise Crash(f"before {op} {key}")
        target(**kwargs)  # the write lands; then the reply or the process is lost
        if fault == "crash_after":
            plan.dead = True
            raise Crash(f"after {op} {key}")
        raise ReadTimeoutError(endpoint_url="http://sim")


class _Paginator:
    def __init__(self, faulty: Faulty, op: str) -> None:
        self.faulty = faulty
        self.op = op

    def paginate(self, **kwargs: Any) -> Any:
        inner = self.faulty.client.get_paginator(self.op).paginate(**kwargs)
        name = "scan" if self.op == "scan" else "list_objects_v2"
        while True:
            page = self.faulty.call(name, lambda _inner=inner, **_: next(_inner, None), dict(kwargs))
            if page is None:
                return
            yield page
