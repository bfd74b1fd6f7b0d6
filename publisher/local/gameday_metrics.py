"""What a game-day scenario measured, from its reads and the writer's acknowledgements (pure functions).

Staleness of a read: the snapshot version it saw holds the first `n` writer models (learned from the
/llms.json bodies readers saw; for a version never seen there, the most any older version held: an
upper bound on staleness); if write n+1 had been acknowledged before the read, the reader was that
many seconds behind. Versions behind: the newest version any reader had seen by then, minus its own.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from publisher.core.slo import API_AVAILABILITY, EDGE_AVAILABILITY, FRESHNESS_TARGET_SECONDS, TIERS
from publisher.local.gameday_load import API, STATIC, Path, Read

STATIC_TARGET = 0.999
FAST = TIERS[0]


def _ok(read: Read) -> bool:
    return 200 <= read.status < 300


class Holdings:
    """Writer models held per snapshot version, completed downward (a newer version holds at least
    what an older one did)."""

    def __init__(self, held: dict[int, int]) -> None:
        self.versions = sorted(held)
        best, self.counts = 0, []
        for version in self.versions:
            best = max(best, held[version])
            self.counts.append(best)

    def of(self, version: int) -> int:
        index = bisect_right(self.versions, version) - 1
        return self.counts[index] if index >= 0 else 0


def staleness(read: Read, holdings: Holdings, acked: list[float]) -> float:
    if read.version is None or not _ok(read):
        return 0.0
    held = holdings.of(read.version)
    if held < len(acked) and acked[held] < read.at:
        return read.at - acked[held]
    return 0.0


@dataclass
class PathFigures:
    label: str
    kind: str
    attempted: int = 0
    ok: int = 0
    fault_attempted: int = 0
    fault_ok: int = 0
    throttled: int = 0
    max_staleness_s: float = 0.0
    max_versions_behind: int = 0
    versions_backward: int = 0

    @property
    def ok_ratio(self) -> float:
        return self.ok / self.attempted if self.attempted else 1.0

    def row(self) -> dict[str, Any]:
        return {"path": self.label, "kind": self.kind, "attempted": self.attempted, "ok": self.ok,
                "ok_ratio": round(self.ok_ratio, 5), "during_fault": [self.fault_ok, self.fault_attempted],
                "max_staleness_s": round(self.max_staleness_s, 2), "max_versions_behind": self.max_versions_behind,
                "versions_backward": self.versions_backward}


def measure_paths(reads: list[Read], paths: list[Path], held: dict[int, int], acked: list[float],
                  fault: tuple[float, float]) -> list[PathFigures]:
    holdings = Holdings(held)
    figures = {p.label: PathFigures(p.label, p.kind) for p in paths}
    tracked = {p.label for p in paths if p.tracks_freshness}
    last: dict[tuple[int, str], int] = {}
    newest = 0
    for read in sorted(reads, key=lambda r: r.at):
        figure = figures[read.label]
        figure.attempted += 1
        figure.ok += _ok(read)
        figure.throttled += read.status == 429
        if fault[0] <= read.at <= fault[1]:
            figure.fault_attempted += 1
            figure.fault_ok += _ok(read)
        if read.version is None or not _ok(read):
            continue
        key = (read.client, read.label)
        if read.version < last.get(key, -1):
            figure.versions_backward += 1
        last[key] = read.version
        if read.label in tracked:
            newest = max(newest, read.version)
            figure.max_versions_behind = max(figure.max_versions_behind, newest - read.version)
            figure.max_staleness_s = max(figure.max_staleness_s, staleness(read, holdings, acked))
    return list(figures.values())


def ratio(figures: list[PathFigures], kind: str | None = None, during_fault: bool = False) -> float:
    chosen = [f for f in figures if kind is None or f.kind == kind]
    attempted = sum(f.fault_attempted if during_fault else f.attempted for f in chosen)
    ok = sum(f.fault_ok if during_fault else f.ok for f in chosen)
    return ok / attempted if attempted else 1.0


@dataclass(frozen=True)
class Signals:
    """What the stack showed besides the reads: its log, the DLQ, the fault board's refusals."""

    publisher_errors: int = 0  # invocations that raised (the poller's "publisher raised" lines)
    failed_publishes: int = 0  # invocations that reported batch item failures
    dlq_max: int = 0  # deepest the DLQ was seen
    s3_refused: int = 0
    dynamodb_refused: int = 0
    writer_refused: int = 0


def alarms(figures: list[PathFigures], signals: Signals, max_staleness_s: float) -> list[str]:
    """The runbook's alarms whose condition the scenario's data met (local stand-ins: a real alarm also
    needs its window, e.g. the burn-rate alarms' 5 minutes, to agree)."""
    fired = []
    if 1 - ratio(figures, STATIC, during_fault=True) > float(FAST.error_ratio(EDGE_AVAILABILITY)):
        fired.append("edge-availability-fast-burn")
    if 1 - ratio(figures, API, during_fault=True) > float(FAST.error_ratio(API_AVAILABILITY)):
        fired.append("api-availability-fast-burn")
    if signals.publisher_errors:
        fired.append("publisher-errors")
    if signals.failed_publishes:
        fired.append("publish-failures")
    if signals.dlq_max:
        fired.append("publisher-dlq-messages")
    if max_staleness_s > FRESHNESS_TARGET_SECONDS:
        fired += ["freshness-fast-burn", "publisher-iterator-age"]
    if any(f.throttled for f in figures):
        fired.append("read-throttles")
    if any(f.versions_backward for f in figures) or any(f.label == "list" and f.ok < f.attempted for f in figures):
        fired.append("canary-checks")
    return fired


def summarise(name: str, figures: list[PathFigures], acked: int, lost: int, recovery_s: float | None,
              signals: Signals, notes: list[str]) -> dict[str, Any]:
    """One scenario's row: the JSON line's keys first, then the detail."""
    tracked = [f for f in figures if f.label != "dated snapshot"]
    max_staleness = max((f.max_staleness_s for f in tracked), default=0.0)
    static = ratio(figures, STATIC)
    return {
        "name": name,
        "read_ok_ratio": round(ratio(figures), 5),
        "static_read_ok_ratio": round(static, 5),
        "api_read_ok_ratio": round(ratio(figures, API), 5),
        "max_staleness_s": round(max_staleness, 2),
        "versions_backward": sum(f.versions_backward for f in figures),
        "acked_writes": acked,
        "lost_writes": lost,
        "recovery_s": None if recovery_s is None else round(recovery_s, 2),
        "targets": {
            "static_reads": static >= STATIC_TARGET,
            "versions_never_backward": not any(f.versions_backward for f in figures),
            "no_write_lost": lost == 0,
            "recovery_within_slo": recovery_s is not None and recovery_s <= FRESHNESS_TARGET_SECONDS,
        },
        "alarms": alarms(figures, signals, max_staleness),
        "signals": signals.__dict__,
        "notes": notes,
        "paths": [f.row() for f in figures],
    }


JSON_KEYS = ("name", "read_ok_ratio", "static_read_ok_ratio", "api_read_ok_ratio", "max_staleness_s",
             "versions_backward", "acked_writes", "lost_writes", "recovery_s")


def table(results: list[dict[str, Any]]) -> str:
    """The console table: one block per scenario, a line per path, targets and alarms under it."""
    lines = []
    for result in results:
        recovery = "never" if result["recovery_s"] is None else f"{result['recovery_s']:.1f} s"
        lines.append(f"== {result['name']}: reads ok {result['read_ok_ratio']:.2%} (static "
                     f"{result['static_read_ok_ratio']:.3%}, api {result['api_read_ok_ratio']:.2%}), worst staleness "
                     f"{result['max_staleness_s']:.1f} s, backward {result['versions_backward']}, writes acked "
                     f"{result['acked_writes']} lost {result['lost_writes']}, recovery {recovery}")
        lines.append(f"   {'path':<15} {'kind':<6} {'reads':>6} {'2xx':>6} {'ok':>8} {'in fault':>11} "
                     f"{'stale s':>8} {'behind':>6} {'back':>4}")
        for row in result["paths"]:
            during = f"{row['during_fault'][0]}/{row['during_fault'][1]}"
            lines.append(f"   {row['path']:<15} {row['kind']:<6} {row['attempted']:>6} {row['ok']:>6} "
                         f"{row['ok_ratio']:>8.2%} {during:>11} {row['max_staleness_s']:>8.1f} "
                         f"{row['max_versions_behind']:>6} {row['versions_backward']:>4}")
        below = [f"{row['path']} ({row['kind']})" for row in result["paths"] if row["ok_ratio"] < STATIC_TARGET]
        if below:
            why = ("; the API and history files are served by the read function alone and have no such target "
                   "(SOLUTION.md section 17 says why)") if all(b.endswith(f"({API})") for b in below) else ""
            lines.append(f"   below 99.9%: {', '.join(below)}{why}")
        missed = [k for k, met in result["targets"].items() if not met]
        lines.append(f"   targets: {'all met' if not missed else 'NOT MET: ' + ', '.join(missed)}")
        lines.append(f"   alarms an operator sees: {', '.join(result['alarms']) or 'none'}")
        if result.get("alarms_if_sustained"):
            lines.append(f"   and if it lasted: {', '.join(result['alarms_if_sustained'])}")
        lines.append("   signals: " + ", ".join(f"{k} {v}" for k, v in result["signals"].items()))
        lines.extend(f"   note: {note}" for note in result["notes"])
    return "\n".join(lines)
