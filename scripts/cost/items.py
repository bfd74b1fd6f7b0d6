"""Line items as data: what each design bills per traffic level, the CDN floor, and the flat-rate choice."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cost.inputs import Inputs
from cost.prices import FREE_TIER_FOR_PRICE, FlatRatePlan, Prices, fmt_qty, to_cents

SECONDS_PER_MONTH = 730 * 3600  # AWS prices a month as 730 hours
SCAN_PAGE_BYTES = 1024 * 1024  # one Scan page stops at 1 MB; the PoC read one page only
READ_UNIT_BYTES = 4096
EVENTUALLY_CONSISTENT = Decimal("0.5")
HTTP_API_METER_BYTES = 512 * 1024  # HTTP APIs meter requests in 512 KB increments
# Lambda's X-Ray sampling for active tracing (not configurable): 1 request/s, then 5% of the rest.
XRAY_RESERVOIR_PER_S, XRAY_RATE = Decimal(1), Decimal("0.05")
# KMS: S3 bucket keys, DynamoDB's and SQS's data-key caching reuse a key for minutes; about two
# requests per publish plus two per 5-minute window for the table and the bucket (estimate).
KMS_REQUESTS_PER_PUBLISH, KMS_CACHE_WINDOWS = 2, Decimal(2 * 12 * 730)


@dataclass(frozen=True)
class LineItem:
    service: str
    item: str
    price_key: str
    quantity: Decimal
    unit: str
    usd: Decimal
    working: str

    def as_json(self) -> dict[str, Any]:
        return {"service": self.service, "item": self.item, "price": self.price_key, "quantity": float(self.quantity),
                "unit": self.unit, "usd": float(to_cents(self.usd)), "usd_exact": str(self.usd.normalize()),
                "working": self.working}


@dataclass(frozen=True)
class Traffic:
    """The derived quantities every line item reads."""

    requests: Decimal
    inputs: Inputs
    gb_bytes: Decimal

    @property
    def api_viewer(self) -> Decimal:
        return self.requests * self.inputs.api_share

    @property
    def static_viewer(self) -> Decimal:
        return self.requests - self.api_viewer

    @property
    def api_origin(self) -> Decimal:
        return self.api_viewer * (1 - self.inputs.api_hit_ratio)

    @property
    def publishes(self) -> Decimal:
        return self.inputs.writes_per_month + self.inputs.reconciles_per_month

    @property
    def transfer_gb(self) -> Decimal:
        i = self.inputs
        return (self.static_viewer * i.snapshot_response_bytes + self.api_viewer * i.api_response_bytes) / self.gb_bytes

    def gb(self, count: Decimal, each: int) -> Decimal:
        return count * each / self.gb_bytes


def scan_read_units(table_bytes: int, *, single_page: bool) -> Decimal:
    """On-demand read units of one eventually consistent Scan (at least one 4 KB unit per request)."""
    scanned = min(table_bytes, SCAN_PAGE_BYTES) if single_page else table_bytes
    return Decimal(max(1, math.ceil(scanned / READ_UNIT_BYTES))) * EVENTUALLY_CONSISTENT


def lambda_gb_seconds(invocations: Decimal, duration_ms: Decimal, memory_mb: int) -> Decimal:
    """GB-s billed: each invocation's duration is rounded up to the next millisecond."""
    return invocations * Decimal(math.ceil(duration_ms)) / 1000 * Decimal(memory_mb) / 1024


def xray_traces(invocations: Decimal) -> Decimal:
    """Traces Lambda's active tracing records in a month: the reservoir each second, 5% beyond it."""
    reservoir = min(invocations, XRAY_RESERVOIR_PER_S * SECONDS_PER_MONTH)
    return reservoir + (invocations - reservoir) * XRAY_RATE


def http_api_units(body_bytes: int) -> int:
    return max(1, math.ceil(body_bytes / HTTP_API_METER_BYTES))


# S3 moves nothing under 128 KB to an infrequent-access class (and would bill it as 128 KB there).
IA_MIN_TRANSITION_BYTES = 128 * 1024
DAYS_PER_MONTH = Decimal(730) / 24


def snapshot_bytes(t: Traffic) -> int:
    """One dated snapshot: a copy of llms.json (about 200 B of envelope around the models)."""
    return t.inputs.table_items * t.inputs.snapshot_model_bytes + 200


def snapshot_copies(t: Traffic, infrequent: bool) -> int:
    """Dated snapshots held in STANDARD (infrequent=False) or STANDARD_IA (True) in the month billed."""
    days, after = t.inputs.snapshot_days_kept, t.inputs.snapshot_transition_days
    moved = max(0, days - after) if snapshot_bytes(t) >= IA_MIN_TRANSITION_BYTES else 0
    return moved if infrequent else days - moved


def history_versions(t: Traffic) -> Decimal:
    """Versions in the log a year in: one per publish with changes (writes), over the days held."""
    return t.inputs.writes_per_month / DAYS_PER_MONTH * t.inputs.history_days_kept


def history_checkpoints(t: Traffic) -> int:
    from publisher.core.replay import CHECKPOINT_EVERY

    return int(history_versions(t)) // CHECKPOINT_EVERY


# (service, item, price key, quantity, working) -- the quantity and its working from the traffic.
Spec = tuple[str, str, str, Callable[[Traffic], Decimal], Callable[[Traffic], str]]
_ = fmt_qty

POC: Sequence[Spec] = (
    ("API Gateway", "HTTP API requests", "http_api_requests",
     lambda t: t.requests * http_api_units(t.inputs.table_bytes),
     lambda t: f"{_(t.requests)} req x {http_api_units(t.inputs.table_bytes)} unit(s) of 512 KB"),
    ("Lambda", "requests (x86)", "lambda_requests", lambda t: t.requests, lambda t: ""),
    ("Lambda", "compute x86", "lambda_gb_s_x86",
     lambda t: lambda_gb_seconds(t.requests, t.inputs.poc_duration_ms, t.inputs.poc_memory_mb),
     lambda t: f"{_(t.requests)} x {math.ceil(t.inputs.poc_duration_ms)} ms x {t.inputs.poc_memory_mb}/1024 GB"),
    ("DynamoDB", "Scan read units (on-demand)", "dynamodb_on_demand_rru",
     lambda t: t.requests * scan_read_units(t.inputs.table_bytes, single_page=True),
     lambda t: f"{_(t.requests)} x ceil({min(t.inputs.table_bytes, SCAN_PAGE_BYTES):,} B / 4 KB) x 0.5"),
    ("CloudWatch", "Logs ingestion (whole event)", "cloudwatch_logs_ingestion",
     lambda t: t.gb(t.requests, t.inputs.poc_log_bytes), lambda t: f"{_(t.requests)} x {t.inputs.poc_log_bytes:,} B"),
    ("API Gateway", "data transfer out (uncompressed)", "api_gateway_data_transfer_out",
     lambda t: t.gb(t.requests, t.inputs.table_bytes), lambda t: f"{_(t.requests)} x {t.inputs.table_bytes:,} B"),
)

# CloudFront pay-as-you-go with the WAF the stack attaches: the part a flat-rate plan replaces.
CDN_PAYG: Sequence[Spec] = (
    ("CloudFront", "HTTPS requests", "cloudfront_https_requests", lambda t: t.requests, lambda t: ""),
    ("CloudFront", "data transfer out (compressed)", "cloudfront_data_transfer_out", lambda t: t.transfer_gb,
     lambda t: f"{_(t.static_viewer)} x {t.inputs.snapshot_response_bytes:,} B + {_(t.api_viewer)} x "
               f"{t.inputs.api_response_bytes:,} B"),
    ("WAF", "web ACL", "waf_web_acl", lambda t: Decimal(1), lambda t: ""),
    ("WAF", "rules", "waf_rule", lambda t: Decimal(t.inputs.waf_rules), lambda t: ""),
    ("WAF", "requests inspected", "waf_requests", lambda t: t.requests, lambda t: ""),
)

ORIGIN: Sequence[Spec] = (
    ("S3", "GET on edge miss (snapshot)", "s3_get_requests", lambda t: t.static_viewer * (1 - t.inputs.hit_ratio),
     lambda t: f"{_(t.static_viewer)} static x (1 - {t.inputs.hit_ratio} hit)"),
    ("Lambda", "read requests (function URL, no per-request fee)", "lambda_requests", lambda t: t.api_origin,
     lambda t: f"{_(t.requests)} x {t.inputs.api_share} api x (1 - {t.inputs.api_hit_ratio} hit)"),
    ("Lambda", "read compute arm64", "lambda_gb_s_arm64",
     lambda t: lambda_gb_seconds(t.api_origin, t.inputs.read_duration_ms, t.inputs.read_memory_mb),
     lambda t: f"{_(t.api_origin)} x {math.ceil(t.inputs.read_duration_ms)} ms x {t.inputs.read_memory_mb}/1024 GB"),
    ("S3", "conditional GET (read revalidation, <= 1 per invocation)", "s3_get_requests", lambda t: t.api_origin,
     lambda t: ""),
    ("CloudWatch", "Logs ingestion (read)", "cloudwatch_logs_ingestion",
     lambda t: t.gb(t.api_origin, t.inputs.read_log_bytes + t.inputs.platform_log_bytes),
     lambda t: f"{_(t.api_origin)} x ({t.inputs.read_log_bytes} + {t.inputs.platform_log_bytes} platform) B"),
    ("X-Ray", "read traces", "xray_traces",
     lambda t: xray_traces(t.api_origin) if t.inputs.read_traced else Decimal(0),
     lambda t: "1/s + 5% of the rest" if t.inputs.read_traced else "PassThrough: CloudFront sends no sampled trace"),
    ("Lambda", "publisher requests (writes + reconciles)", "lambda_requests", lambda t: t.publishes,
     lambda t: f"{_(t.inputs.writes_per_month)} + {_(t.inputs.reconciles_per_month)}"),
    ("Lambda", "publisher compute arm64", "lambda_gb_s_arm64",
     lambda t: lambda_gb_seconds(t.publishes, t.inputs.publisher_duration_ms, t.inputs.publisher_memory_mb),
     lambda t: f"{_(t.publishes)} x {math.ceil(t.inputs.publisher_duration_ms)} ms x "
               f"{t.inputs.publisher_memory_mb}/1024 GB"),
    ("S3", "PUT per publish and reconcile (conditional)", "s3_put_requests",
     lambda t: t.inputs.writes_per_month * t.inputs.s3_puts_per_publish
     + t.inputs.reconciles_per_month * t.inputs.s3_puts_per_reconcile,
     lambda t: f"{_(t.inputs.writes_per_month)} x {t.inputs.s3_puts_per_publish} + "
               f"{_(t.inputs.reconciles_per_month)} x {t.inputs.s3_puts_per_reconcile}"),
    ("S3", "GET/HEAD per publish and reconcile", "s3_get_requests",
     lambda t: t.inputs.writes_per_month * t.inputs.s3_gets_per_publish
     + t.inputs.reconciles_per_month * t.inputs.s3_gets_per_reconcile,
     lambda t: f"{_(t.inputs.writes_per_month)} x {t.inputs.s3_gets_per_publish} + "
               f"{_(t.inputs.reconciles_per_month)} x {t.inputs.s3_gets_per_reconcile}"),
    ("S3", "dated snapshots, recent (STANDARD)", "s3_standard_storage",
     lambda t: t.gb(Decimal(snapshot_copies(t, False)), snapshot_bytes(t)),
     lambda t: f"{snapshot_copies(t, False)} copies x {snapshot_bytes(t):,} B (IA only from 128 KB)"),
    ("S3", "dated snapshots, older (STANDARD_IA)", "s3_standard_ia_storage",
     lambda t: t.gb(Decimal(snapshot_copies(t, True)), snapshot_bytes(t)),
     lambda t: f"{snapshot_copies(t, True)} copies older than {t.inputs.snapshot_transition_days} days x "
               f"{snapshot_bytes(t):,} B"),
    ("S3", "dated snapshot and index PUTs (one day each)", "s3_put_requests", lambda t: 2 * DAYS_PER_MONTH,
     lambda t: "2 x 730/24 days"),
    ("S3", "version log, a year in (STANDARD)", "s3_standard_storage",
     lambda t: t.gb(history_versions(t), t.inputs.log_version_bytes),
     lambda t: f"{_(history_versions(t))} versions x {t.inputs.log_version_bytes:,} B"),
    ("S3", "version checkpoints, a year in (STANDARD)", "s3_standard_storage",
     lambda t: t.gb(Decimal(history_checkpoints(t)), snapshot_bytes(t)),
     lambda t: f"{history_checkpoints(t):,} checkpoints (1 per 32 versions) x {snapshot_bytes(t):,} B"),
    ("S3", "checkpoint and index PUTs (1 version in 32)", "s3_put_requests",
     lambda t: 2 * t.inputs.writes_per_month / 32, lambda t: f"2 x {_(t.inputs.writes_per_month)} / 32"),
    ("DynamoDB", "reconcile Scan read units (paginated)", "dynamodb_on_demand_rru",
     lambda t: t.inputs.reconciles_per_month * scan_read_units(t.inputs.table_bytes, single_page=False),
     lambda t: f"{_(t.inputs.reconciles_per_month)} x ceil({t.inputs.table_bytes:,} B / 4 KB) x 0.5"),
    ("CloudWatch", "Logs ingestion (publisher)", "cloudwatch_logs_ingestion",
     lambda t: t.gb(t.publishes, t.inputs.publisher_log_bytes + t.inputs.platform_log_bytes),
     lambda t: f"{_(t.publishes)} x ({t.inputs.publisher_log_bytes} + {t.inputs.platform_log_bytes}) B"),
    ("X-Ray", "publisher traces", "xray_traces", lambda t: xray_traces(t.publishes), lambda t: "1/s + 5%"),
    ("KMS", "customer managed keys", "kms_key", lambda t: Decimal(t.inputs.kms_keys), lambda t: ""),
    ("KMS", "requests (estimate)", "kms_requests", lambda t: t.publishes * KMS_REQUESTS_PER_PUBLISH + KMS_CACHE_WINDOWS,
     lambda t: f"{_(t.publishes)} x {KMS_REQUESTS_PER_PUBLISH} + {_(KMS_CACHE_WINDOWS)} cache windows"),
    ("CloudWatch", "alarm metrics", "cloudwatch_alarm", lambda t: Decimal(t.inputs.alarms), lambda t: ""),
    ("CloudWatch", "dashboard", "cloudwatch_dashboard", lambda t: Decimal(t.inputs.dashboards), lambda t: ""),
    ("CloudWatch", "custom metrics billed in a normal month", "cloudwatch_custom_metric",
     lambda t: Decimal(t.inputs.custom_metrics), lambda t: "anomaly metrics bill only in the hours they fire"),
)


def evaluate(specs: Sequence[Spec], traffic: Traffic, prices: Prices) -> list[LineItem]:
    items = []
    for service, item, key, quantity, how in specs:
        q = quantity(traffic)
        usd, arithmetic = prices[key].cost(q)
        text = how(traffic)
        items.append(LineItem(service, item, key, q, prices[key].unit, usd,
                              f"{text}{' -> ' if text else ''}{arithmetic} = ${to_cents(usd):,}"))
    return items


def free_tier_credits(items: Sequence[LineItem], prices: Prices) -> list[LineItem]:
    """Negative line items for the always-free allowances, as if the design were alone in its account."""
    used: dict[str, Decimal] = {}
    for li in items:
        if li.price_key in FREE_TIER_FOR_PRICE:
            used[li.price_key] = used.get(li.price_key, Decimal(0)) + li.quantity
    credits = []
    for key, quantity in used.items():
        allowance = prices.free_tier.get(FREE_TIER_FOR_PRICE[key], Decimal(0))
        full, _w = prices[key].cost(quantity)
        rest, _w = prices[key].cost(max(Decimal(0), quantity - allowance))
        free = min(quantity, allowance)
        working = f"-{fmt_qty(free)} of {fmt_qty(quantity)} free = -${to_cents(full - rest):,}"
        credits.append(LineItem("Free tier", f"always-free {prices[key].unit} ({key})", key, -free, prices[key].unit,
                                rest - full, working))
    return credits


def cheapest_plan(traffic: Traffic, plans: Sequence[FlatRatePlan]) -> FlatRatePlan | None:
    from cost.monitoring import monitoring_edge_requests

    requests = traffic.requests + monitoring_edge_requests(traffic.inputs)
    fitting = [p for p in plans if p.requests >= requests and p.data_transfer_gb >= traffic.transfer_gb]
    return min(fitting, key=lambda p: p.usd) if fitting else None
