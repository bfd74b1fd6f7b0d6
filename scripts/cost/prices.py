"""Public list prices (scripts/prices.json): tiered unit prices, free-tier allowances, CloudFront flat-rate plans."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

PRICES_PATH = Path(__file__).resolve().parent.parent / "prices.json"
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
    "cloudwatch_dashboard": "cloudwatch_dashboards",
    "xray_traces": "xray_traces",
    "kms_requests": "kms_requests",
}
REQUIRED_PRICES = frozenset({
    *FREE_TIER_FOR_PRICE, "http_api_requests", "dynamodb_on_demand_rru", "s3_get_requests", "s3_put_requests",
    "cloudwatch_alarm", "cloudwatch_custom_metric", "waf_web_acl", "waf_rule", "waf_requests", "kms_key",
    "cloudwatch_composite_alarm", "synthetics_canary_run", "dynamodb_on_demand_wru",
    "s3_standard_storage", "s3_standard_ia_storage",
})


def to_cents(usd: Decimal) -> Decimal:
    return usd.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_qty(q: Decimal) -> str:
    if q == q.to_integral_value():
        return f"{int(q):,}"
    return f"{q.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP).normalize():,f}"


def per_label(per: Decimal, unit: str) -> str:
    labels = {Decimal(1000): "1k", Decimal(10_000): "10k", Decimal(1_000_000): "1M"}
    return unit if per == 1 else labels.get(per, fmt_qty(per))


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
        missing = REQUIRED_PRICES - items.keys()
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
