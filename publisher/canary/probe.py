"""One canary run: check the catalogue and the API, write a heartbeat through the table, time it to the edge."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from publisher.core.heartbeat import HEALTH_KEY, HEARTBEAT_KEY, heartbeat_item, written_at
from publisher.core.slo import FRESHNESS_TARGET_SECONDS

# path -> (HTTP status, decoded body, headers by lower-case name); OSError when the edge is unreachable.
Fetch = Callable[[str], tuple[int, bytes, dict[str, str]]]
PutHeartbeat = Callable[[dict[str, Any]], None]

SNAPSHOT_PATH = "/llms.json"
HEALTH_PATH = f"/{HEALTH_KEY}"
API_HEALTH_PATH = "/api/health"
SOURCE_HEADER = "X-Snapshot-Source"
SOURCE_S3 = "s3"  # the edge answered from the published object, not the read function's failover
# When the run reads health.json after its heartbeat write (seconds). Sparse, not a tight loop: a
# poll every 0.5 s kept the edge's copy revalidated the moment it expired, a warmth a reader arriving
# after a quiet spell never sees; each poll here is one reader's request. The SLI is read at 60 s.
POLL_AT_SECONDS = (1.0, 3.0, 8.0, 20.0, 40.0, float(FRESHNESS_TARGET_SECONDS), 2.0 * FRESHNESS_TARGET_SECONDS)
# The reads of a run besides the polls: /llms.json twice, the previous health.json, /api/health.
CHECK_REQUESTS = 4


@dataclass(frozen=True)
class ProbeSettings:
    max_freshness: float = FRESHNESS_TARGET_SECONDS  # the run fails above this
    timeout: float = 2 * FRESHNESS_TARGET_SECONDS  # stop waiting for the heartbeat after this
    poll_at: tuple[float, ...] = POLL_AT_SECONDS

    def polls(self) -> list[float]:
        """The poll times of a run: those before the timeout, then the timeout itself."""
        return sorted({*(t for t in self.poll_at if t < self.timeout), self.timeout})

    @property
    def edge_requests(self) -> int:
        """The most requests one run sends to the edge (the cost model and slo.json count them)."""
        return CHECK_REQUESTS + len(self.polls())


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class ProbeResult:
    run_id: str
    written_at: str | None = None
    freshness: float | None = None  # seconds from the write to the edge showing it; None: never seen
    version: int | None = None  # the highest /llms.json version seen in this run
    checks: list[Check] = field(default_factory=list)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def freshness_good(self) -> bool:
        """The SLI: was the write visible at the edge within the SLO's threshold?"""
        return self.freshness is not None and self.freshness <= FRESHNESS_TARGET_SECONDS

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "written_at": self.written_at, "ok": self.ok,
                "freshness_seconds": None if self.freshness is None else round(self.freshness, 3),
                "version": self.version, "checks": [asdict(check) for check in self.checks]}


def snapshot_problem(body: bytes) -> tuple[int | None, str | None]:
    """(version, None) for a valid `llms.json`, else (version or None, what is wrong with it)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None, "not JSON"
    if not isinstance(doc, dict):
        return None, "not a JSON object"
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        return None, "version is not a whole number"
    models = doc.get("models")
    if doc.get("schema_version") != 1 or not isinstance(models, list) or not isinstance(doc.get("generated_at"), str):
        return version, "schema_version, generated_at or models missing"
    if doc.get("count") != len(models):
        return version, f"count {doc.get('count')!r} does not match its {len(models)} models"
    for model in models:
        score = model.get("score") if isinstance(model, dict) else None
        if not (isinstance(model, dict) and isinstance(model.get("model_name"), str)
                and isinstance(model.get("provider"), str) and isinstance(score, int | float)
                and not isinstance(score, bool) and 0 <= score <= 100):
            return version, "a model lacks model_name, provider or a score in 0..100"
    if HEARTBEAT_KEY.encode() in body:
        return version, "the canary's heartbeat is in the catalogue"
    return version, None


def previous_heartbeat(fetch: Fetch) -> dict[str, Any] | None:
    """The heartbeat health.json shows now (None when there is none yet or it cannot be read)."""
    try:
        status, body, _ = fetch(HEALTH_PATH)
        if status != 200:
            return None
        beat = json.loads(body).get("heartbeat")
    except (OSError, ValueError, AttributeError):
        return None
    return beat if isinstance(beat, dict) and isinstance(beat.get("written_at"), str) else None


class Probe:
    """One run. `fetch` reads the edge, `put_heartbeat` writes the reserved item the way writers write."""

    def __init__(self, settings: ProbeSettings, fetch: Fetch, put_heartbeat: PutHeartbeat,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC), run_id: str | None = None) -> None:
        self.settings = settings
        self.fetch = fetch
        self.put_heartbeat = put_heartbeat
        self.clock, self.sleep, self.now = clock, sleep, now
        self.result = ProbeResult(run_id or uuid.uuid4().hex[:16])

    def _check(self, name: str, ok: bool, detail: str) -> None:
        self.result.checks.append(Check(name, ok, detail))

    def run(self, last_version: int | None = None) -> ProbeResult:
        """Every check runs even when an earlier one failed; `last_version` is what a previous run saw."""
        version = self._snapshot()
        before = previous_heartbeat(self.fetch)
        seen_before = max([v for v in (last_version, (before or {}).get("last_version")) if isinstance(v, int)],
                          default=None)
        self._api_health()
        self._heartbeat(max([v for v in (version, seen_before) if v is not None], default=None))
        # The run's version is the one the edge shows once the heartbeat went through (everything
        # written before it is published by then); it must not be below any earlier run's.
        end = self._snapshot(record=False)
        if version is not None and end is not None and end < version:
            self._check("versions", False, f"version went backward within the run: {version}, then {end}")
        else:
            self._versions(end if end is not None else version, seen_before)
        self.result.version = max([v for v in (version, end) if v is not None], default=None)
        return self.result

    def _snapshot(self, record: bool = True) -> int | None:
        try:
            status, body, headers = self.fetch(SNAPSHOT_PATH)
        except OSError as exc:
            if record:
                self._check("snapshot", False, f"{SNAPSHOT_PATH} unreachable: {exc}")
            return None
        if status != 200:
            if record:
                self._check("snapshot", False, f"{SNAPSHOT_PATH} answered {status}")
            return None
        version, problem = snapshot_problem(body)
        source = headers.get(SOURCE_HEADER.lower())
        if problem is None and source != SOURCE_S3:
            # CloudFront failed over to the read function: llms.json is missing or unreadable in S3.
            problem = f"answered by the read function ({SOURCE_HEADER}: {source}), not the published object"
        if record:
            self._check("snapshot", problem is None,
                        f"{SNAPSHOT_PATH} 200, version {version}" if problem is None
                        else f"{SNAPSHOT_PATH} is not a valid snapshot: {problem}")
        return version

    def _versions(self, version: int | None, seen_before: int | None) -> None:
        if version is None:
            return  # the snapshot check already failed
        if seen_before is None:
            self._check("versions", True, f"version {version} (no earlier run recorded)")
        elif version >= seen_before:
            self._check("versions", True, f"version {version} >= {seen_before} seen before")
        else:
            self._check("versions", False,
                        f"version went backward: {SNAPSHOT_PATH} is version {version}, "
                        f"a previous run saw {seen_before}")

    def _api_health(self) -> None:
        try:
            status, body, _ = self.fetch(API_HEALTH_PATH)
            answer = json.loads(body) if status == 200 else {}
        except OSError as exc:
            self._check("api-health", False, f"{API_HEALTH_PATH} unreachable: {exc}")
            return
        except ValueError:
            answer = {}
        reported = answer.get("status") if isinstance(answer, dict) else None
        self._check("api-health", status == 200 and reported == "ok",
                    f"{API_HEALTH_PATH} {status}, status {reported!r}")

    def _heartbeat(self, last_version: int | None) -> None:
        settings, result = self.settings, self.result
        result.written_at = written_at(self.now())
        started = self.clock()
        try:
            self.put_heartbeat(heartbeat_item(result.run_id, result.written_at, last_version))
        except Exception as exc:  # any SDK failure is a failed write, reported by name
            self._check("freshness", False, f"writing the heartbeat failed: {type(exc).__name__}: {exc}")
            return
        last_seen = "nothing"
        for poll in settings.polls():
            self.sleep(max(0.0, poll - (self.clock() - started)))
            try:
                status, body, _ = self.fetch(HEALTH_PATH)
                beat = json.loads(body).get("heartbeat") if status == 200 else None
                last_seen = f"{status}" if beat is None else f"the heartbeat written at {beat.get('written_at')}"
                # A later run's heartbeat (same key, written after ours) proves ours went through too.
                if isinstance(beat, dict) and str(beat.get("written_at", "")) >= result.written_at:
                    result.freshness = self.clock() - started
                    break
            except (OSError, ValueError, AttributeError) as exc:
                last_seen = f"an error ({type(exc).__name__})"
        if result.freshness is None:
            self._check("freshness", False, f"heartbeat not visible at the edge within {settings.timeout:g} s "
                        f"({HEALTH_PATH} last showed {last_seen})")
            return
        if result.freshness > settings.max_freshness:
            self._check("freshness", False,
                        f"freshness {result.freshness:.3f} s exceeded the maximum of {settings.max_freshness:g} s")
        else:
            self._check("freshness", True, f"{result.freshness:.3f} s <= {settings.max_freshness:g} s")
