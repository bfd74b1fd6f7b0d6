"""The alarm evaluator's CloudWatch semantics on hand-made alarms (no Terraform needed)."""

from __future__ import annotations

from typing import Any

from .alarm_eval import ALARM, INSUFFICIENT, OK, Metrics, metric_alarm_state, metric_math, simulate

DIMS = {"FunctionName": "f"}


def alarm(**overrides: Any) -> dict[str, Any]:
    return {"AlarmName": "a", "Namespace": "AWS/Lambda", "MetricName": "IteratorAge",
            "Dimensions": [{"Name": "FunctionName", "Value": "f"}], "Statistic": "Maximum", "Period": 60,
            "EvaluationPeriods": 5, "DatapointsToAlarm": 3, "Threshold": 60_000,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching", **overrides}


def test_m_of_n_datapoints_breaching_alarm() -> None:
    metrics = Metrics()
    for minute, age in enumerate([1_000, 90_000, 1_000, 90_000, 90_000]):
        metrics.put("AWS/Lambda", "IteratorAge", DIMS, minute * 60 + 5, age)
    assert metric_alarm_state(alarm(), metrics, 300, OK) == ALARM
    assert metric_alarm_state(alarm(DatapointsToAlarm=4), metrics, 300, OK) == OK


def test_missing_data_is_what_treat_missing_data_says() -> None:
    silent = Metrics()  # a disabled trigger: no datapoint at all
    assert metric_alarm_state(alarm(), silent, 600, OK) == OK
    assert metric_alarm_state(alarm(TreatMissingData="breaching"), silent, 600, OK) == ALARM
    assert metric_alarm_state(alarm(TreatMissingData="missing"), silent, 600, OK) == INSUFFICIENT
    assert metric_alarm_state(alarm(TreatMissingData="ignore"), silent, 600, ALARM) == ALARM


def test_statistics_sample_count_and_less_than() -> None:
    metrics = Metrics()
    metrics.put("LlmCatalogue", "CanaryProbes", {"service": "canary"}, 100, 1)
    quiet = alarm(Namespace="LlmCatalogue", MetricName="CanaryProbes", Dimensions=[{"Name": "service",
                  "Value": "canary"}], Statistic="SampleCount", Period=300, EvaluationPeriods=2,
                  DatapointsToAlarm=2, Threshold=1, ComparisonOperator="LessThanThreshold",
                  TreatMissingData="breaching")
    assert metric_alarm_state(quiet, metrics, 300, OK) == OK  # one period has the sample
    assert metric_alarm_state(quiet, metrics, 800, OK) == ALARM  # ten minutes without one


def test_metric_math_missing_propagates_and_fill_fills() -> None:
    ratio = "(IF(total > 0, FILL(bad, 0) / total, 0)) / 0.01"
    assert metric_math(ratio, {"bad": None, "total": None}) is None
    assert metric_math(ratio, {"bad": None, "total": 12}) == 0
    assert metric_math(ratio, {"bad": 2, "total": 12}) == (2 / 12) / 0.01
    assert metric_math(ratio, {"bad": None, "total": 0}) == 0  # no division by zero raised
    assert metric_math("(FILL(rate, 0) / 100) / 0.0005", {"rate": None}) == 0


def test_a_composite_fires_only_when_both_windows_do() -> None:
    metrics = Metrics()
    for minute in range(0, 30):
        metrics.put("AWS/Lambda", "IteratorAge", DIMS, minute * 60 + 5, 90_000 if minute >= 20 else 0)
    fast = alarm(AlarmName="fast", EvaluationPeriods=1, DatapointsToAlarm=1)
    slow = alarm(AlarmName="slow", Period=600, EvaluationPeriods=1, DatapointsToAlarm=1, Statistic="Average",
                 Threshold=45_000)
    composite = {"both": {"AlarmRule": 'ALARM("fast") AND ALARM("slow")'}}
    timeline = simulate({"fast": fast, "slow": slow}, composite, metrics, 0, 1800)
    assert timeline.first_alarm["fast"] == 21 * 60
    assert timeline.first_alarm["both"] == timeline.first_alarm["slow"] > timeline.first_alarm["fast"]
