"""Monthly AWS cost of the PoC (HTTP API -> Lambda -> full Scan) against the snapshot design, with working."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

PRICES_PATH = Path(__file__).with_name("prices.json")

# AWS prices a month as 730 hours.
SECONDS_PER_MONTH = 730 * 3600
# A single Scan page stops at 1 MB; the PoC read one page only, so it never paid for more.
SCAN_PAGE_BYTES = 1024 * 1024
# One read request unit covers 4 KB; Scan sums the sizes of the items it reads, then rounds up.
READ_UNIT_BYTES = 4096
# Scan is eventually consistent unless ConsistentRead is set: half a unit per 4 KB.
EVENTUALLY_CONSISTENT_FACTOR = Decimal("0.5")
# HTTP APIs meter each request in 512 KB increments of payload.
HTTP_API_METER_BYTES = 512 * 1024

DEFAULT_REQUESTS = ("1M", "10M", "100M", "1B")
# Product's scenario: 2,000 concurrent users, each asking every 2 s.
DEFAULT_RPS = Decimal(1000)

CENT = Decimal("0.01")

# Always-free allowances (prices.json "free_tier") by the price they offset.
FREE_TIER_FOR_PRICE = {
    "lambda_requests": "lambda_requests",
    "lambda_gb_s_x86": "lambda_gb_s",
    "lambda_gb_s_arm64": "lambda_gb_s",
    "cloudfront_https_requests": "cloudfront_requests",
    "cloudfront_data_transfer_out": "cloudfront_data_transfer_gb",
    "api_gateway_data_transfer_out": "internet_data_transfer_gb",
    "cloudwatch_logs_ingestion": "cloudwatch_logs_gb",
}
CLOUDFRONT_PRICE_KEYS = ("cloudfront_https_requests", "cloudfront_data_transfer_out")


class PriceDataError(ValueError):
    """The prices file is missing an entry or has one that does not parse."""


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None
    usd: Decimal


@dataclass(frozen=True)
class Price:
    key: str
    per: Decimal
    unit: str
    tiers: tuple[Tier, ...]
    source: str
    as_of: str

    def cost(self, quantity: Decimal) -> tuple[Decimal, str]:
        """Exact cost of `quantity` units and the arithmetic that produced it."""
        total = Decimal(0)
        parts: list[str] = []
        done = Decimal(0)
        for tier in self.tiers:
            if quantity <= done:
                break
            top = quantity if tier.up_to is None else min(quantity, tier.up_to)
            step = top - done
            total += step * tier.usd / self.per
            parts.append(f"{fmt_qty(step)} x ${tier.usd}/{per_label(self.per, self.unit)}")
            done = top
        if not parts:
            parts.append(f"0 x ${self.tiers[0].usd}/{per_label(self.per, self.unit)}")
        return total, " + ".join(parts)


@dataclass(frozen=True)
class FlatRatePlan:
    name: str
    usd: Decimal
    requests: Decimal
    data_transfer_gb: Decimal


@dataclass(frozen=True)
class Prices:
    items: dict[str, Price]
    free_tier: dict[str, Decimal]
    plans: tuple[FlatRatePlan, ...]
    gb_bytes: Decimal

    def __getitem__(self, key: str) -> Price:
        return self.items[key]

    @classmethod
    def load(cls, path: Path = PRICES_PATH) -> Prices:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            items = {key: _parse_price(key, entry) for key, entry in raw["prices"].items()}
            free = {
                key: Decimal(str(entry["units"]))
                for key, entry in raw["free_tier"].items()
                if not key.startswith("_")
            }
            plans = tuple(
                FlatRatePlan(
                    name=p["name"],
                    usd=Decimal(p["usd"]),
                    requests=Decimal(p["requests"]),
                    data_transfer_gb=Decimal(p["data_transfer_gb"]),
                )
                for p in raw["cloudfront_flat_rate_plans"]["plans"]
            )
            gb_bytes = Decimal(raw["gb_bytes"])
        except (OSError, KeyError, TypeError, InvalidOperation, json.JSONDecodeError) as exc:
            raise PriceDataError(f"{path}: {exc!r}") from exc
        missing = {
            *FREE_TIER_FOR_PRICE,
            "http_api_requests",
            "dynamodb_on_demand_rru",
            "s3_get_requests",
            "s3_put_requests",
            "cloudwatch_alarm",
            "cloudwatch_custom_metric",
        } - items.keys()
        if missing:
            raise PriceDataError(f"{path}: missing prices {sorted(missing)}")
        return cls(items=items, free_tier=free, plans=plans, gb_bytes=gb_bytes)


def _parse_price(key: str, entry: dict[str, Any]) -> Price:
    if "tiers" in entry:
        tiers = tuple(
            Tier(None if t["up_to"] is None else Decimal(str(t["up_to"])), Decimal(t["usd"]))
            for t in entry["tiers"]
        )
    else:
        tiers = (Tier(None, Decimal(entry["usd"])),)
    if tiers[-1].up_to is not None:
        raise PriceDataError(f"{key}: the last tier must have up_to null")
    return Price(
        key=key,
        per=Decimal(str(entry["per"])),
        unit=entry["unit"],
        tiers=tiers,
        source=entry["source"],
        as_of=entry["as_of"],
    )


@dataclass(frozen=True)
class Inputs:
    """Everything the model varies on; defaults are the documented starting point."""

    table_items: int = 25
    item_bytes: int = 200
    response_bytes: int | None = None
    hit_ratio: Decimal = Decimal("0.95")
    api_share: Decimal = Decimal("0.05")
    api_hit_ratio: Decimal = Decimal(0)
    poc_memory_mb: int = 128
    poc_duration_ms: Decimal = Decimal(120)
    poc_log_bytes: int = 2000
    lambda_memory_mb: int = 512
    read_duration_ms: Decimal = Decimal(30)
    read_log_bytes: int = 400
    publisher_duration_ms: Decimal = Decimal(500)
    publisher_log_bytes: int = 1000
    writes_per_month: Decimal = Decimal(10_000)
    reconciles_per_month: Decimal = Decimal(730)
    objects_per_publish: int = 5
    alarms: int = 10
    custom_metrics: int = 5
    free_tier: bool = False
    durations_source: str = "placeholders until make bench runs"

    @property
    def table_bytes(self) -> int:
        return self.table_items * self.item_bytes

    @property
    def body_bytes(self) -> int:
        """Bytes of one full-list response; by default the size of the table's items."""
        return self.table_bytes if self.response_bytes is None else self.response_bytes


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
        return {
            "service": self.service,
            "item": self.item,
            "price": self.price_key,
            "quantity": float(self.quantity),
            "unit": self.unit,
            "usd": float(to_cents(self.usd)),
            "usd_exact": str(self.usd.normalize()),
            "working": self.working,
        }


@dataclass(frozen=True)
class FlatRateOption:
    plan: FlatRatePlan | None
    cloudfront_payg_usd: Decimal
    new_total_with_plan_usd: Decimal | None

    def note(self) -> str:
        payg = f"${to_cents(self.cloudfront_payg_usd):,}"
        if self.plan is None:
            return (
                f"CloudFront flat-rate: traffic exceeds the largest published level (6B requests, "
                f"600 TB); custom pricing only. Pay-as-you-go CloudFront here: {payg}."
            )
        with_plan = to_cents(self.new_total_with_plan_usd or Decimal(0))
        verdict = "cheaper" if self.plan.usd < self.cloudfront_payg_usd else "dearer, but a fixed cap"
        return (
            f"CloudFront flat-rate alternative: {self.plan.name} plan ${self.plan.usd:,}/month "
            f"(up to {fmt_short(self.plan.requests)} requests and {fmt_gb(self.plan.data_transfer_gb)}, "
            f"no overage) instead of {payg} pay-as-you-go CloudFront ({verdict}); "
            f"new design total with the plan ${with_plan:,}."
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "plan": None if self.plan is None else self.plan.name,
            "plan_usd_month": None if self.plan is None else float(self.plan.usd),
            "cloudfront_payg_usd_month": float(to_cents(self.cloudfront_payg_usd)),
            "new_usd_month_with_plan": (
                None
                if self.new_total_with_plan_usd is None
                else float(to_cents(self.new_total_with_plan_usd))
            ),
            "note": self.note(),
        }


@dataclass(frozen=True)
class Scenario:
    label: str
    requests_per_month: Decimal
    poc: tuple[LineItem, ...]
    new: tuple[LineItem, ...]
    flat_rate: FlatRateOption

    @property
    def poc_total(self) -> Decimal:
        return sum((li.usd for li in self.poc), Decimal(0))

    @property
    def new_total(self) -> Decimal:
        return sum((li.usd for li in self.new), Decimal(0))

    def as_json(self) -> dict[str, Any]:
        poc, new = to_cents(self.poc_total), to_cents(self.new_total)
        return {
            "label": self.label,
            "requests_per_month": int(self.requests_per_month),
            "requests_per_second_avg": float(round(self.requests_per_month / SECONDS_PER_MONTH, 3)),
            "poc_usd_month": float(poc),
            "new_usd_month": float(new),
            "savings_usd_month": float(poc - new),
            "poc_line_items": [li.as_json() for li in self.poc],
            "new_line_items": [li.as_json() for li in self.new],
            "cloudfront_flat_rate": self.flat_rate.as_json(),
        }


def to_cents(usd: Decimal) -> Decimal:
    return usd.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_qty(q: Decimal) -> str:
    if q == q.to_integral_value():
        return f"{int(q):,}"
    return f"{q.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP).normalize():,f}"


def per_label(per: Decimal, unit: str) -> str:
    labels = {Decimal(1000): "1k", Decimal(10_000): "10k", Decimal(1_000_000): "1M"}
    return unit if per == 1 else labels.get(per, fmt_qty(per))


def fmt_short(q: Decimal) -> str:
    """1000000 -> '1M', 2500000000 -> '2.5B'; other values with separators."""
    for scale, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if q >= scale and (q / scale) == (q / scale).quantize(Decimal("0.01")):
            return f"{(q / scale).normalize():f}{suffix}"
    return fmt_qty(q)


def fmt_gb(gb: Decimal) -> str:
    return f"{fmt_qty(gb / 1024)} TB" if gb >= 1024 else f"{fmt_qty(gb)} GB"


def requests_from_rps(rps: Decimal) -> Decimal:
    """Average requests per second held for a 730-hour month."""
    return rps * SECONDS_PER_MONTH


def scan_read_units(table_bytes: int, *, single_page: bool) -> Decimal:
    """On-demand read units of one eventually consistent Scan of the whole table.

    A single page stops at 1 MB (the PoC's silent truncation); a paginated scan reads it all.
    Each request is billed at least one 4 KB unit, so an empty table still costs half a unit.
    """
    scanned = min(table_bytes, SCAN_PAGE_BYTES) if single_page else table_bytes
    units = max(1, math.ceil(scanned / READ_UNIT_BYTES))
    return Decimal(units) * EVENTUALLY_CONSISTENT_FACTOR


def lambda_gb_seconds(invocations: Decimal, duration_ms: Decimal, memory_mb: int) -> Decimal:
    """GB-s billed: Lambda rounds each invocation's duration up to the next millisecond."""
    billed_ms = Decimal(math.ceil(duration_ms))
    return invocations * billed_ms / 1000 * Decimal(memory_mb) / 1024


def http_api_units(body_bytes: int) -> int:
    return max(1, math.ceil(body_bytes / HTTP_API_METER_BYTES))


def _item(prices: Prices, service: str, item: str, key: str, quantity: Decimal, how: str = "") -> LineItem:
    price = prices[key]
    usd, arithmetic = price.cost(quantity)
    working = f"{how}{' -> ' if how else ''}{arithmetic} = ${to_cents(usd):,}"
    return LineItem(service, item, key, quantity, price.unit, usd, working)


def poc_line_items(requests: Decimal, inputs: Inputs, prices: Prices) -> list[LineItem]:
    """Every request: HTTP API -> x86 Lambda -> one-page Scan, whole event logged, body out of API Gateway."""
    gb_out = requests * inputs.body_bytes / prices.gb_bytes
    units = http_api_units(inputs.body_bytes)
    rru = scan_read_units(inputs.table_bytes, single_page=True)
    gbs = lambda_gb_seconds(requests, inputs.poc_duration_ms, inputs.poc_memory_mb)
    return [
        _item(
            prices,
            "API Gateway",
            "HTTP API requests",
            "http_api_requests",
            requests * units,
            f"{fmt_qty(requests)} req x {units} metered unit(s) of 512 KB",
        ),
        _item(prices, "Lambda", "requests (x86)", "lambda_requests", requests),
        _item(
            prices,
            "Lambda",
            f"compute x86 {inputs.poc_memory_mb} MB",
            "lambda_gb_s_x86",
            gbs,
            f"{fmt_qty(requests)} x {math.ceil(inputs.poc_duration_ms)} ms x {inputs.poc_memory_mb}/1024 GB",
        ),
        _item(
            prices,
            "DynamoDB",
            "Scan read units (on-demand)",
            "dynamodb_on_demand_rru",
            requests * rru,
            f"{fmt_qty(requests)} x ceil({min(inputs.table_bytes, SCAN_PAGE_BYTES):,} B / 4 KB) x 0.5",
        ),
        _item(
            prices,
            "CloudWatch",
            "Logs ingestion (whole event)",
            "cloudwatch_logs_ingestion",
            requests * inputs.poc_log_bytes / prices.gb_bytes,
            f"{fmt_qty(requests)} x {inputs.poc_log_bytes:,} B",
        ),
        _item(
            prices,
            "API Gateway",
            "data transfer out",
            "api_gateway_data_transfer_out",
            gb_out,
            f"{fmt_qty(requests)} x {inputs.body_bytes:,} B",
        ),
    ]


def new_line_items(requests: Decimal, inputs: Inputs, prices: Prices) -> list[LineItem]:
    """CloudFront serves every read; misses go to S3 (snapshot) or /api/* (HTTP API -> arm64 Lambda)."""
    api_viewer = requests * inputs.api_share
    static_viewer = requests - api_viewer
    s3_misses = static_viewer * (1 - inputs.hit_ratio)
    api_origin = api_viewer * (1 - inputs.api_hit_ratio)
    units = http_api_units(inputs.body_bytes)
    mem = inputs.lambda_memory_mb
    publishes = inputs.writes_per_month + inputs.reconciles_per_month
    reconcile_rru = scan_read_units(inputs.table_bytes, single_page=False)
    return [
        _item(prices, "CloudFront", "HTTPS requests (all reads)", "cloudfront_https_requests", requests),
        _item(
            prices,
            "CloudFront",
            "data transfer out",
            "cloudfront_data_transfer_out",
            requests * inputs.body_bytes / prices.gb_bytes,
            f"{fmt_qty(requests)} x {inputs.body_bytes:,} B",
        ),
        _item(
            prices,
            "S3",
            "GET on edge miss (snapshot)",
            "s3_get_requests",
            s3_misses,
            f"{fmt_qty(static_viewer)} static x (1 - {inputs.hit_ratio} hit)",
        ),
        _item(
            prices,
            "API Gateway",
            "HTTP API requests (/api/* at origin)",
            "http_api_requests",
            api_origin * units,
            f"{fmt_qty(requests)} x {inputs.api_share} api share"
            f" x (1 - {inputs.api_hit_ratio} hit) x {units} unit(s)",
        ),
        _item(prices, "Lambda", "read requests (arm64)", "lambda_requests", api_origin),
        _item(
            prices,
            "Lambda",
            f"read compute arm64 {mem} MB",
            "lambda_gb_s_arm64",
            lambda_gb_seconds(api_origin, inputs.read_duration_ms, mem),
            f"{fmt_qty(api_origin)} x {math.ceil(inputs.read_duration_ms)} ms x {mem}/1024 GB",
        ),
        _item(
            prices,
            "S3",
            "conditional GET (read Lambda revalidation, <=1/invocation)",
            "s3_get_requests",
            api_origin,
        ),
        _item(
            prices,
            "CloudWatch",
            "Logs ingestion (read Lambda)",
            "cloudwatch_logs_ingestion",
            api_origin * inputs.read_log_bytes / prices.gb_bytes,
            f"{fmt_qty(api_origin)} x {inputs.read_log_bytes:,} B",
        ),
        _item(
            prices,
            "Lambda",
            "publisher requests (writes + reconciles)",
            "lambda_requests",
            publishes,
            f"{fmt_qty(inputs.writes_per_month)} + {fmt_qty(inputs.reconciles_per_month)}",
        ),
        _item(
            prices,
            "Lambda",
            f"publisher compute arm64 {mem} MB",
            "lambda_gb_s_arm64",
            lambda_gb_seconds(publishes, inputs.publisher_duration_ms, mem),
            f"{fmt_qty(publishes)} x {math.ceil(inputs.publisher_duration_ms)} ms x {mem}/1024 GB",
        ),
        _item(prices, "S3", "GET current snapshot (publisher)", "s3_get_requests", publishes),
        _item(
            prices,
            "S3",
            "PUT snapshot objects (conditional)",
            "s3_put_requests",
            publishes * inputs.objects_per_publish,
            f"{fmt_qty(publishes)} x {inputs.objects_per_publish} objects",
        ),
        _item(
            prices,
            "DynamoDB",
            "reconcile Scan read units (paginated)",
            "dynamodb_on_demand_rru",
            inputs.reconciles_per_month * reconcile_rru,
            f"{fmt_qty(inputs.reconciles_per_month)} x ceil({inputs.table_bytes:,} B / 4 KB) x 0.5",
        ),
        _item(
            prices,
            "CloudWatch",
            "Logs ingestion (publisher)",
            "cloudwatch_logs_ingestion",
            publishes * inputs.publisher_log_bytes / prices.gb_bytes,
            f"{fmt_qty(publishes)} x {inputs.publisher_log_bytes:,} B",
        ),
        _item(prices, "CloudWatch", "alarms", "cloudwatch_alarm", Decimal(inputs.alarms)),
        _item(
            prices,
            "CloudWatch",
            "custom metrics (EMF)",
            "cloudwatch_custom_metric",
            Decimal(inputs.custom_metrics),
        ),
    ]


def free_tier_credits(items: Iterable[LineItem], prices: Prices) -> list[LineItem]:
    """Negative line items for the always-free allowances, as if this design were alone in the account."""
    by_key: dict[str, Decimal] = {}
    for li in items:
        if li.price_key in FREE_TIER_FOR_PRICE:
            by_key[li.price_key] = by_key.get(li.price_key, Decimal(0)) + li.quantity
    credits = []
    for key, used in by_key.items():
        allowance = prices.free_tier[FREE_TIER_FOR_PRICE[key]]
        price = prices[key]
        full, _ = price.cost(used)
        rest, _ = price.cost(max(Decimal(0), used - allowance))
        free_units = min(used, allowance)
        credit = rest - full
        credits.append(
            LineItem(
                "Free tier",
                f"always-free {price.unit} ({key})",
                key,
                -free_units,
                price.unit,
                credit,
                f"-{fmt_qty(free_units)} of {fmt_qty(used)} {price.unit} free = -${to_cents(-credit):,}",
            )
        )
    return credits


def flat_rate_option(
    requests: Decimal, inputs: Inputs, new_items: Sequence[LineItem], prices: Prices
) -> FlatRateOption:
    """Cheapest CloudFront flat-rate plan whose allowances cover this traffic (all paths, /api/* included)."""
    payg = sum((li.usd for li in new_items if li.price_key in CLOUDFRONT_PRICE_KEYS), Decimal(0))
    gb = requests * inputs.body_bytes / prices.gb_bytes
    fitting = [p for p in prices.plans if p.requests >= requests and p.data_transfer_gb >= gb]
    if not fitting:
        return FlatRateOption(None, payg, None)
    plan = min(fitting, key=lambda p: p.usd)
    total = sum((li.usd for li in new_items), Decimal(0)) - payg + plan.usd
    return FlatRateOption(plan, payg, total)


def build_scenario(label: str, requests: Decimal, inputs: Inputs, prices: Prices) -> Scenario:
    poc = poc_line_items(requests, inputs, prices)
    new = new_line_items(requests, inputs, prices)
    if inputs.free_tier:
        poc += free_tier_credits(poc, prices)
        new += free_tier_credits(new, prices)
    return Scenario(label, requests, tuple(poc), tuple(new), flat_rate_option(requests, inputs, new, prices))


def parse_count(text: str) -> Decimal:
    """'1M', '2.5k', '1B', '1e6' or '1000000' -> a non-negative number of requests."""
    suffixes = {"K": Decimal(10) ** 3, "M": Decimal(10) ** 6, "B": Decimal(10) ** 9}
    t = text.strip().replace("_", "").replace(",", "")
    scale = Decimal(1)
    if t and t[-1].upper() in suffixes:
        scale, t = suffixes[t[-1].upper()], t[:-1]
    try:
        value = Decimal(t) * scale
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (use e.g. 1M, 10M, 1B, 2500000)") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative count, got {text!r}")
    return value


def _count_list(text: str) -> list[Decimal]:
    return [parse_count(part) for part in text.split(",") if part.strip()] or [parse_count(text)]


def _bounded(lo: Decimal | None, hi: Decimal | None, *, integer: bool = False):
    def check(text: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value.is_finite():
            raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
        if integer and value != value.to_integral_value():
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            span = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"must be {span}, got {text!r}")
        return value

    return check


_RATIO = _bounded(Decimal(0), Decimal(1))
_NONNEG = _bounded(Decimal(0), None)
_NONNEG_INT = _bounded(Decimal(0), None, integer=True)
# Lambda memory is 128 MB to 10,240 MB.
_MEMORY = _bounded(Decimal(128), Decimal(10240), integer=True)


def build_parser() -> argparse.ArgumentParser:
    d = Inputs()
    p = argparse.ArgumentParser(
        prog="cost_model",
        description="Monthly cost of the PoC against the snapshot design, per traffic level, with working.",
    )
    p.add_argument(
        "--requests",
        type=_count_list,
        action="extend",
        metavar="N[,N...]",
        help=f"monthly read requests, comma-separated, suffixes k/M/B (default {','.join(DEFAULT_REQUESTS)})",
    )
    p.add_argument(
        "--rps",
        type=_NONNEG,
        default=DEFAULT_RPS,
        help="also cost a steady requests/second scenario (default 1000 = 2,000 users every 2 s; 0 = off)",
    )
    p.add_argument("--table-items", type=_NONNEG_INT, default=Decimal(d.table_items))
    p.add_argument("--item-bytes", type=_NONNEG_INT, default=Decimal(d.item_bytes))
    p.add_argument(
        "--response-bytes",
        type=_NONNEG_INT,
        default=None,
        help="bytes of one response (default table-items x item-bytes)",
    )
    p.add_argument("--hit-ratio", type=_RATIO, default=d.hit_ratio, help="CDN hit ratio for snapshot paths")
    p.add_argument("--api-share", type=_RATIO, default=d.api_share, help="share of all reads that are /api/*")
    p.add_argument(
        "--api-hit-ratio",
        type=_RATIO,
        default=d.api_hit_ratio,
        help="CDN hit ratio for /api/* (default 0: every API call reaches the Lambda)",
    )
    p.add_argument("--poc-memory-mb", type=_MEMORY, default=Decimal(d.poc_memory_mb))
    p.add_argument(
        "--poc-duration-ms",
        type=_NONNEG,
        default=None,
        help=f"PoC billed duration (default: bench JSON, else placeholder {d.poc_duration_ms})",
    )
    p.add_argument(
        "--poc-log-bytes",
        type=_NONNEG_INT,
        default=Decimal(d.poc_log_bytes),
        help="log bytes per PoC request (whole event + platform lines; estimate)",
    )
    p.add_argument(
        "--lambda-memory-mb",
        type=_MEMORY,
        default=Decimal(d.lambda_memory_mb),
        help="memory of the new design's Lambdas",
    )
    p.add_argument(
        "--read-duration-ms",
        type=_NONNEG,
        default=None,
        help=f"read Lambda billed duration (default: bench JSON, else placeholder {d.read_duration_ms})",
    )
    p.add_argument("--read-log-bytes", type=_NONNEG_INT, default=Decimal(d.read_log_bytes))
    p.add_argument(
        "--publisher-duration-ms",
        type=_NONNEG,
        default=None,
        help=f"publisher billed duration (default: bench JSON, else placeholder {d.publisher_duration_ms})",
    )
    p.add_argument(
        "--writes-per-month",
        type=parse_count,
        default=d.writes_per_month,
        help="table writes per month, each taken as one publisher run (conservative)",
    )
    p.add_argument(
        "--reconciles-per-month",
        type=parse_count,
        default=d.reconciles_per_month,
        help="scheduled full rebuilds per month (default 730 = hourly)",
    )
    p.add_argument("--objects-per-publish", type=_NONNEG_INT, default=Decimal(d.objects_per_publish))
    p.add_argument("--alarms", type=_NONNEG_INT, default=Decimal(d.alarms))
    p.add_argument("--custom-metrics", type=_NONNEG_INT, default=Decimal(d.custom_metrics))
    p.add_argument("--free-tier", action="store_true", help="apply always-free allowances to each design")
    p.add_argument(
        "--bench-json",
        type=Path,
        default=None,
        help="JSON from make bench with poc_handler_ms, read_handler_ms (publisher_handler_ms optional)",
    )
    p.add_argument("--prices", type=Path, default=PRICES_PATH, help="price data file")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON array, one object per traffic level")
    out.add_argument("--markdown", action="store_true", help="print the summary as a markdown table")
    return p


BENCH_KEYS = {
    "poc_handler_ms": "poc_duration_ms",
    "read_handler_ms": "read_duration_ms",
    "publisher_handler_ms": "publisher_duration_ms",
}


def read_bench(path: Path) -> dict[str, Decimal]:
    """Durations from a bench file: a number, or an object with mean / p50 / median.

    Billing follows the mean, so mean is preferred when the bench reports several statistics.
    """
    raw = json.loads(path.read_text(encoding="utf-8"))
    found: dict[str, Decimal] = {}
    for key, field in BENCH_KEYS.items():
        if key not in raw:
            continue
        value = raw[key]
        if isinstance(value, dict):
            value = next((value[k] for k in ("mean", "p50", "median") if k in value), None)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or value < 0
            or not math.isfinite(value)
        ):
            raise ValueError(f"{key} must be a non-negative number of ms (or an object with mean/p50)")
        found[field] = Decimal(str(value))
    return found


def inputs_from_args(args: argparse.Namespace, err: Any) -> Inputs:
    bench: dict[str, Decimal] = {}
    source = Inputs.durations_source
    if args.bench_json is not None:
        if args.bench_json.is_file():
            try:
                bench = read_bench(args.bench_json)
            except (ValueError, OSError) as exc:
                err(f"argument --bench-json: {args.bench_json}: {exc}")
            source = f"measured, from {args.bench_json}"
        else:
            print(
                f"note: --bench-json {args.bench_json} not found; using placeholder durations",
                file=sys.stderr,
            )
    explicit = {
        "poc_duration_ms": args.poc_duration_ms,
        "read_duration_ms": args.read_duration_ms,
        "publisher_duration_ms": args.publisher_duration_ms,
    }
    durations = {k: v if v is not None else bench.get(k, getattr(Inputs, k)) for k, v in explicit.items()}
    if any(v is not None for v in explicit.values()):
        source += "; some set on the command line"
    return Inputs(
        table_items=int(args.table_items),
        item_bytes=int(args.item_bytes),
        response_bytes=None if args.response_bytes is None else int(args.response_bytes),
        hit_ratio=args.hit_ratio,
        api_share=args.api_share,
        api_hit_ratio=args.api_hit_ratio,
        poc_memory_mb=int(args.poc_memory_mb),
        poc_log_bytes=int(args.poc_log_bytes),
        lambda_memory_mb=int(args.lambda_memory_mb),
        read_log_bytes=int(args.read_log_bytes),
        writes_per_month=args.writes_per_month,
        reconciles_per_month=args.reconciles_per_month,
        objects_per_publish=int(args.objects_per_publish),
        alarms=int(args.alarms),
        custom_metrics=int(args.custom_metrics),
        free_tier=args.free_tier,
        durations_source=source,
        **durations,
    )


def traffic_levels(requests: Sequence[Decimal] | None, rps: Decimal) -> list[tuple[str, Decimal]]:
    levels = [(f"{fmt_short(r)}/month", r) for r in (requests or [parse_count(t) for t in DEFAULT_REQUESTS])]
    if rps > 0:
        who = " (Product: 2,000 users, 1 req/2 s)" if rps == DEFAULT_RPS else ""
        levels.append((f"{fmt_qty(rps)} req/s steady{who}", requests_from_rps(rps)))
    return levels


def render_text(scenarios: Sequence[Scenario], inputs: Inputs, prices_path: Path) -> str:
    lines: list[str] = []
    for s in scenarios:
        rps = s.requests_per_month / SECONDS_PER_MONTH
        lines.append(
            f"=== {s.label}: {fmt_qty(s.requests_per_month)} requests/month "
            f"(avg {rps.quantize(Decimal('0.01'))} req/s) ==="
        )
        for title, items, total in (
            (f"PoC: HTTP API -> Lambda x86 {inputs.poc_memory_mb} MB -> DynamoDB Scan", s.poc, s.poc_total),
            (
                "New: CloudFront -> S3 snapshot; /api/* -> HTTP API -> Lambda arm64 "
                f"{inputs.lambda_memory_mb} MB",
                s.new,
                s.new_total,
            ),
        ):
            lines.append(title)
            for li in items:
                lines.append(f"  {li.service:<11} {li.item:<58} {'$' + format(to_cents(li.usd), ','):>12}")
                lines.append(f"  {'':<11}   {li.working}")
            lines.append(f"  {'TOTAL':<70} {'$' + format(to_cents(total), ','):>12}")
        lines.append(f"  note: {s.flat_rate.note()}")
        lines.append("")
    lines.append(render_markdown(scenarios))
    lines.append("")
    lines.extend(assumption_notes(inputs, prices_path))
    return "\n".join(lines)


def render_markdown(scenarios: Sequence[Scenario]) -> str:
    rows = [
        "| Traffic | Requests/month | PoC $/month | New $/month | New with CloudFront flat-rate plan |",
        "|---|---:|---:|---:|---|",
    ]
    for s in scenarios:
        fr = s.flat_rate
        plan = (
            "no published plan fits"
            if fr.plan is None
            else f"${to_cents(fr.new_total_with_plan_usd or Decimal(0)):,} ({fr.plan.name}, ${fr.plan.usd:,})"
        )
        rows.append(
            f"| {s.label} | {fmt_qty(s.requests_per_month)} | ${to_cents(s.poc_total):,} | "
            f"${to_cents(s.new_total):,} | {plan} |"
        )
    return "\n".join(rows)


def assumption_notes(inputs: Inputs, prices_path: Path) -> list[str]:
    return [
        f"Prices: {_shown(prices_path)} (us-east-1 list prices, each with source URL and as_of date).",
        f"Durations ({inputs.durations_source}): PoC {inputs.poc_duration_ms} ms, "
        f"read {inputs.read_duration_ms} ms, "
        f"publisher {inputs.publisher_duration_ms} ms. Local measurements understate Lambda at 128 MB, "
        "which gets a fraction of a vCPU.",
        f"Estimates: PoC log {inputs.poc_log_bytes} B/request, read log {inputs.read_log_bytes} B, "
        f"publisher log {inputs.publisher_log_bytes} B, {inputs.objects_per_publish} objects per publish, "
        f"{inputs.alarms} alarms, {inputs.custom_metrics} custom metrics; "
        "/api/* responses priced at full-list size.",
        "Left out of both: DynamoDB writes and storage (same in both), S3 and log storage (KBs), "
        "Stream reads by Lambda (free), origin-to-CloudFront transfer (free), X-Ray, "
        "Lambda volume discounts.",
        "Free tier: "
        + (
            "applied per design (always-free allowances only)."
            if inputs.free_tier
            else "not applied (use --free-tier)."
        ),
    ]


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        inputs = inputs_from_args(args, parser.error)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        prices = Prices.load(args.prices)
    except PriceDataError as exc:
        print(f"cost_model: error: argument --prices: {exc}", file=sys.stderr)
        return 2
    flat = args.requests or None
    scenarios = [build_scenario(label, r, inputs, prices) for label, r in traffic_levels(flat, args.rps)]
    if args.json:
        print(json.dumps([s.as_json() for s in scenarios], indent=2))
    elif args.markdown:
        print(render_markdown(scenarios))
    else:
        print(render_text(scenarios, inputs, args.prices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
