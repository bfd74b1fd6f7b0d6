"""A small CloudWatch alarm evaluator: deployed alarm definitions (DescribeAlarms) run over metric samples.

What it models, from the CloudWatch user guide ("Evaluating an alarm", "Configuring how alarms treat
missing data", "Using metric math"):
- An alarm is evaluated every minute on its last `EvaluationPeriods` periods of `Period` seconds,
  ending at the evaluation time; each period's datapoint is the statistic of the samples in it
  (Sum, Maximum, Minimum, Average, SampleCount, pNN), or missing when it has none.
- `DatapointsToAlarm` (M, default N) of those N datapoints breaching puts it in ALARM.
- Missing datapoints count as `TreatMissingData` says: breaching, notBreaching, or (missing,
  ignore) not at all; with every datapoint missing, `missing` is INSUFFICIENT_DATA and `ignore`
  keeps the previous state.
- A metric-math alarm computes its returned expression per period from the queried metrics. A
  metric without a sample in the period is missing there: arithmetic and comparisons on it are
  missing (no datapoint at that time), except FILL(m, v), which gives v.
- A composite alarm's rule (ALARM("a") AND/OR ALARM("b")) is read from its children's states.
Simplifications: no evaluation delay for late metrics and no look-back past N periods for
`missing` (the alarms here use notBreaching and breaching only).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"
MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]


def metric_key(namespace: str, name: str, dimensions: dict[str, str] | Iterable[dict[str, str]]) -> MetricKey:
    """Dimensions as a dict, or DescribeAlarms' [{"Name": ..., "Value": ...}] list."""
    pairs = dimensions.items() if isinstance(dimensions, dict) else ((d["Name"], d["Value"]) for d in dimensions)
    return namespace, name, tuple(sorted(pairs))


@dataclass
class Metrics:
    """Raw samples per metric, as the services put them: (time in seconds, value)."""

    samples: dict[MetricKey, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))

    def put(self, namespace: str, name: str, dimensions: dict[str, str], at: float, value: float) -> None:
        bisect.insort(self.samples[metric_key(namespace, name, dimensions)], (at, value))

    def values(self, key: MetricKey, start: float, end: float) -> list[float]:
        series = self.samples.get(key, [])
        low, high = bisect.bisect_left(series, (start, -math.inf)), bisect.bisect_left(series, (end, -math.inf))
        return [value for _, value in series[low:high]]


def statistic(stat: str, values: list[float]) -> float | None:
    if not values:
        return None
    if stat == "Sum":
        return sum(values)
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "SampleCount":
        return float(len(values))
    if re.fullmatch(r"p\d+(\.\d+)?", stat):
        ordered = sorted(values)
        return ordered[max(0, math.ceil(float(stat[1:]) / 100 * len(ordered)) - 1)]
    raise ValueError(f"statistic {stat!r} is not modelled")


class _Missing:
    """No datapoint: what metric math makes of a metric without a sample in the period."""

    def _same(self, *_: object) -> _Missing:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __gt__ = __lt__ = __ge__ = __le__ = _same


MISSING = _Missing()


def _fill(value: object, default: float) -> object:
    return _Value(default) if value is MISSING else value


def _if(condition: object, then: object, otherwise: object) -> object:
    if condition is MISSING:
        return MISSING
    return then if condition else otherwise


class _Value(float):
    """A metric-math number: x / 0 is NaN, not an error (IF's branches are all computed, as here)."""

    def __truediv__(self, other: object) -> object:
        if other is MISSING:
            return MISSING
        return _Value(math.nan if other == 0 else float(self) / float(other))  # type: ignore[arg-type]

    def __rtruediv__(self, other: object) -> object:
        return _Value(math.nan if self == 0 else float(other) / float(self))  # type: ignore[arg-type]


def metric_math(expression: str, values: dict[str, float | None]) -> float | None:
    """One period's value of a deployed expression (IF, FILL, + - * / and comparisons: all ours use)."""
    names: dict[str, object] = {k: MISSING if v is None else _Value(v) for k, v in values.items()}
    code = re.sub(r"\bIF\(", "if_(", expression).replace("FILL(", "fill(")
    result = eval(code, {"__builtins__": {}, "if_": _if, "fill": _fill}, names)  # noqa: S307 - our own alarms
    return None if result is MISSING or (isinstance(result, float) and math.isnan(result)) else float(result)


def _breaches(alarm: dict[str, Any], value: float) -> bool:
    threshold, operator = alarm["Threshold"], alarm["ComparisonOperator"]
    return {"GreaterThanThreshold": value > threshold, "GreaterThanOrEqualToThreshold": value >= threshold,
            "LessThanThreshold": value < threshold, "LessThanOrEqualToThreshold": value <= threshold}[operator]


def datapoints(alarm: dict[str, Any], metrics: Metrics, now: float) -> list[float | None]:
    """The alarm's last EvaluationPeriods datapoints at `now`, newest first (None: missing)."""
    if "Metrics" in alarm and alarm["Metrics"]:
        stats = {q["Id"]: q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q}
        (returned,) = [q for q in alarm["Metrics"] if q.get("ReturnData")]
        period = next(iter(stats.values()))["Period"]
    else:
        stats, returned, period = {}, None, alarm["Period"]
    points: list[float | None] = []
    for k in range(alarm["EvaluationPeriods"]):
        start, end = now - (k + 1) * period, now - k * period
        if returned is None:
            key = metric_key(alarm["Namespace"], alarm["MetricName"], alarm.get("Dimensions", []))
            stat = alarm.get("Statistic") or alarm["ExtendedStatistic"]
            points.append(statistic(stat, metrics.values(key, start, end)))
            continue
        values = {}
        for query_id, metric_stat in stats.items():
            metric = metric_stat["Metric"]
            key = metric_key(metric["Namespace"], metric["MetricName"], metric.get("Dimensions", []))
            values[query_id] = statistic(metric_stat["Stat"], metrics.values(key, start, end))
        points.append(metric_math(returned["Expression"], values))
    return points


def metric_alarm_state(alarm: dict[str, Any], metrics: Metrics, now: float, previous: str) -> str:
    points = datapoints(alarm, metrics, now)
    treat = alarm.get("TreatMissingData", "missing")
    needed = alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"]
    bad = evaluated = 0
    for point in points:
        if point is None:
            if treat in ("missing", "ignore"):
                continue
            bad += treat == "breaching"
        else:
            bad += _breaches(alarm, point)
        evaluated += 1
    if bad >= needed:
        return ALARM
    if evaluated == 0:
        return previous if treat == "ignore" else INSUFFICIENT
    return OK


def composite_state(rule: str, states: dict[str, str]) -> str:
    """ALARM("a") AND ALARM("b") [OR ...]: the rule form this stack's composite alarms use."""
    expression = re.sub(r'ALARM\("([^"]+)"\)', lambda m: repr(states[m.group(1)] == ALARM), rule)
    expression = expression.replace(" AND ", " and ").replace(" OR ", " or ")
    if not re.fullmatch(r"(True|False|and|or|\(|\)|\s)+", expression):
        raise ValueError(f"alarm rule {rule!r} is not modelled")
    return ALARM if eval(expression, {"__builtins__": {}}) else OK  # noqa: S307 - checked above


@dataclass
class Timeline:
    """Each alarm's states over the simulated minutes: when it first went to ALARM, if it did."""

    first_alarm: dict[str, float | None]
    states: dict[str, str]

    def alarmed(self) -> dict[str, float]:
        return {name: at for name, at in self.first_alarm.items() if at is not None}


def simulate(metric_alarms: dict[str, dict[str, Any]], composite_alarms: dict[str, dict[str, Any]],
             metrics: Metrics, start: float, end: float, step: float = 60) -> Timeline:
    """Evaluate every alarm each `step` seconds from `start` to `end` (alarms start INSUFFICIENT_DATA)."""
    states = {name: INSUFFICIENT for name in [*metric_alarms, *composite_alarms]}
    first: dict[str, float | None] = dict.fromkeys(states)
    now = start
    while now <= end:
        for name, alarm in metric_alarms.items():
            states[name] = metric_alarm_state(alarm, metrics, now, states[name])
        for name, alarm in composite_alarms.items():
            states[name] = composite_state(alarm["AlarmRule"], states)
        for name, state in states.items():
            if state == ALARM and first[name] is None:
                first[name] = now
        now += step
    return Timeline(first, states)
