"""The SLO monitoring's line items: the freshness canary, the publishes its heartbeats cause, the alerts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from cost.inputs import Inputs
from cost.items import Spec, Traffic, lambda_gb_seconds, xray_traces
from cost.prices import Prices, fmt_qty

_ = fmt_qty


# The SLO monitoring: the freshness canary (a scheduled Lambda) with the publish each heartbeat
# causes, and the burn-rate alerts. A fixed monthly amount whatever the traffic, shown apart.
def _runs(t: Traffic) -> Decimal:
    return t.inputs.canary_runs_per_month


MONITORING: Sequence[Spec] = (
    ("CloudWatch", "burn-rate window alarms: metrics read", "cloudwatch_alarm",
     lambda t: Decimal(t.inputs.slo_alarm_metrics), lambda t: "SLOs x tiers x 2 windows x metrics each"),
    ("CloudWatch", "composite alarms (one alert per SLO and tier)", "cloudwatch_composite_alarm",
     lambda t: Decimal(t.inputs.composite_alarms), lambda t: ""),
    ("Lambda", "canary requests", "lambda_requests", _runs, lambda t: ""),
    ("Lambda", "canary compute arm64", "lambda_gb_s_arm64",
     lambda t: lambda_gb_seconds(_runs(t), t.inputs.canary_duration_ms, t.inputs.canary_memory_mb),
     lambda t: f"{_(_runs(t))} x {math.ceil(t.inputs.canary_duration_ms)} ms x {t.inputs.canary_memory_mb}/1024 GB"),
    ("DynamoDB", "heartbeat writes (1 WRU each)", "dynamodb_on_demand_wru", _runs, lambda t: ""),
    ("Lambda", "publisher requests for heartbeats", "lambda_requests", _runs, lambda t: ""),
    ("Lambda", "publisher compute for heartbeats", "lambda_gb_s_arm64",
     lambda t: lambda_gb_seconds(_runs(t), t.inputs.heartbeat_publish_ms, t.inputs.publisher_memory_mb),
     lambda t: f"{_(_runs(t))} x {math.ceil(t.inputs.heartbeat_publish_ms)} ms x "
               f"{t.inputs.publisher_memory_mb}/1024 GB"),
    ("X-Ray", "publisher traces for heartbeats", "xray_traces", lambda t: xray_traces(_runs(t)),
     lambda t: "1/s + 5%: every run at this rate"),
    ("S3", "health.json PUTs", "s3_put_requests", lambda t: _runs(t) * t.inputs.heartbeat_s3_puts,
     lambda t: f"{_(_runs(t))} x {t.inputs.heartbeat_s3_puts}"),
    ("S3", "state GET and HEADs per heartbeat", "s3_get_requests", lambda t: _runs(t) * t.inputs.heartbeat_s3_gets,
     lambda t: f"{_(_runs(t))} x {t.inputs.heartbeat_s3_gets}"),
    ("CloudFront", "canary requests (pay-as-you-go price)", "cloudfront_https_requests",
     lambda t: _runs(t) * t.inputs.canary_edge_requests, lambda t: f"{_(_runs(t))} x {t.inputs.canary_edge_requests}"),
    ("WAF", "canary requests inspected", "waf_requests", lambda t: _runs(t) * t.inputs.canary_edge_requests,
     lambda t: f"{_(_runs(t))} x {t.inputs.canary_edge_requests}"),
    ("CloudWatch", "Logs ingestion (canary)", "cloudwatch_logs_ingestion",
     lambda t: t.gb(_runs(t), t.inputs.canary_log_bytes + t.inputs.platform_log_bytes),
     lambda t: f"{_(_runs(t))} x ({t.inputs.canary_log_bytes} + {t.inputs.platform_log_bytes} platform) B"),
    ("CloudWatch", "canary custom metrics", "cloudwatch_custom_metric",
     lambda t: Decimal(t.inputs.canary_custom_metrics),
     lambda t: "probes and freshness; breaches only when they occur"),
)


def synthetics_equivalent(runs: Decimal, prices: Prices) -> Decimal:
    """What CloudWatch Synthetics would bill for the same runs, before the Lambda it runs on."""
    return prices["synthetics_canary_run"].cost(runs)[0]


def monitoring_edge_requests(inputs: Inputs) -> Decimal:
    """The canary's CloudFront requests a month: a plan's allowance must hold them beside the traffic."""
    return inputs.canary_runs_per_month * inputs.canary_edge_requests
