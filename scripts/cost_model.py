"""Monthly AWS cost of the PoC against this design and against the CDN floor, per traffic level, with working.

Prices: scripts/prices.json (each with source and date). Inputs: infra/ defaults and make bench
measurements (scripts/cost/inputs.py). Line items: scripts/cost/items.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost.inputs import BENCH_JSON, COST_INPUTS_JSON, FLAGS, Inputs, default_inputs  # noqa: E402
from cost.items import (  # noqa: E402
    CDN_PAYG,
    ORIGIN,
    POC,
    SECONDS_PER_MONTH,
    LineItem,
    Traffic,
    cheapest_plan,
    evaluate,
    free_tier_credits,
)
from cost.monitoring import MONITORING, monitoring_edge_requests, synthetics_equivalent  # noqa: E402
from cost.prices import PRICES_PATH, FlatRatePlan, PriceDataError, Prices, fmt_qty, to_cents  # noqa: E402

DEFAULT_REQUESTS = ("1M", "10M", "100M", "1B")
DEFAULT_RPS = Decimal(1000)  # Product's scenario: 2,000 users, one request each every 2 s
PAYG = "pay-as-you-go"


@dataclasses.dataclass(frozen=True)
class Scenario:
    label: str
    requests: Decimal
    poc: tuple[LineItem, ...]
    cdn_payg: tuple[LineItem, ...]
    origin: tuple[LineItem, ...]
    plan: FlatRatePlan | None
    # The SLO monitoring (canary and burn-rate alerts): the same every month whatever the traffic.
    monitoring: tuple[LineItem, ...] = ()
    synthetics_usd: Decimal = Decimal(0)
    # The canary's CloudFront requests: the plan picked holds them beside the traffic.
    monitoring_edge_requests: Decimal = Decimal(0)

    @staticmethod
    def total(items: Sequence[LineItem]) -> Decimal:
        return sum((li.usd for li in items), Decimal(0))

    @property
    def cdn_payg_usd(self) -> Decimal:
        return self.total(self.cdn_payg)

    @property
    def cdn_choice(self) -> str:
        """The cheaper way to buy the same CDN traffic and protection: pay-as-you-go or a plan."""
        return self.plan.name if self.plan is not None and self.plan.usd < self.cdn_payg_usd else PAYG

    @property
    def floor_usd(self) -> Decimal:
        return self.cdn_payg_usd if self.cdn_choice == PAYG else self.plan.usd  # type: ignore[union-attr]

    @property
    def new_usd(self) -> Decimal:
        """Serving this design's traffic: the CDN at its floor, the origin and its operations."""
        return self.floor_usd + self.total(self.origin)

    @property
    def monitoring_usd(self) -> Decimal:
        return self.total(self.monitoring)

    def as_json(self) -> dict[str, Any]:
        poc, new, floor = to_cents(self.total(self.poc)), to_cents(self.new_usd), to_cents(self.floor_usd)
        return {
            "label": self.label,
            "requests_per_month": int(self.requests),
            "requests_per_second_avg": float(round(self.requests / SECONDS_PER_MONTH, 3)),
            "poc_usd_month": float(poc),
            "new_usd_month": float(new),
            "floor_usd_month": float(floor),
            "new_to_floor_ratio": float(round(self.new_usd / self.floor_usd, 3)) if self.floor_usd else None,
            "cdn_choice": self.cdn_choice,
            "cdn_payg_usd_month": float(to_cents(self.cdn_payg_usd)),
            "cdn_flat_rate_plan": None if self.plan is None else {"name": self.plan.name,
                                                                  "usd_month": float(self.plan.usd),
                                                                  "requests_allowance": int(self.plan.requests)},
            "monitoring_edge_requests_month": int(self.monitoring_edge_requests),
            "savings_usd_month": float(poc - new),
            "slo_monitoring_usd_month": float(to_cents(self.monitoring_usd)),
            "new_with_slo_monitoring_usd_month": float(to_cents(self.new_usd + self.monitoring_usd)),
            "synthetics_canary_runs_usd_month": float(to_cents(self.synthetics_usd)),
            "poc_line_items": [li.as_json() for li in self.poc],
            "cdn_payg_line_items": [li.as_json() for li in self.cdn_payg],
            "origin_line_items": [li.as_json() for li in self.origin],
            "slo_monitoring_line_items": [li.as_json() for li in self.monitoring],
        }


def build_scenario(label: str, requests: Decimal, inputs: Inputs, prices: Prices) -> Scenario:
    traffic = Traffic(requests, inputs, prices.gb_bytes)
    poc, cdn, origin, monitoring = (evaluate(specs, traffic, prices) for specs in (POC, CDN_PAYG, ORIGIN, MONITORING))
    if inputs.free_tier:
        poc += free_tier_credits(poc, prices)
        cdn += free_tier_credits(cdn, prices)
        origin += free_tier_credits(origin, prices)
    return Scenario(label, requests, tuple(poc), tuple(cdn), tuple(origin), cheapest_plan(traffic, prices.plans),
                    tuple(monitoring), synthetics_equivalent(inputs.canary_runs_per_month, prices),
                    monitoring_edge_requests(inputs))


def parse_count(text: str) -> Decimal:
    """'1M', '2.5k', '1B', '1e6' or '1000000' -> a non-negative count."""
    scales = {"K": Decimal(10) ** 3, "M": Decimal(10) ** 6, "B": Decimal(10) ** 9}
    t = text.strip().replace("_", "").replace(",", "")
    scale = Decimal(1)
    if t and t[-1].upper() in scales:
        scale, t = scales[t[-1].upper()], t[:-1]
    try:
        value = Decimal(t) * scale
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (use e.g. 1M, 10M, 1B, 2500000)") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative count, got {text!r}")
    return value


def _number(lo: Decimal | None, hi: Decimal | None, integer: bool):  # noqa: ANN202 - argparse type
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


KINDS = {
    "count": _number(Decimal(0), None, True), "ratio": _number(Decimal(0), Decimal(1), False),
    "ms": _number(Decimal(0), None, False), "memory": _number(Decimal(128), Decimal(10240), True),
    "requests": parse_count,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cost_model", description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=lambda s: [parse_count(x) for x in s.split(",") if x.strip()], action="extend",
                   metavar="N[,N...]", help=f"monthly reads, suffixes k/M/B (default {','.join(DEFAULT_REQUESTS)})")
    p.add_argument("--rps", type=KINDS["ms"], default=DEFAULT_RPS,
                   help="also cost a steady requests/second level (default 1000; 0 = off)")
    for f in FLAGS:  # one flag per Inputs field, generated from its metadata
        flag = "--" + f.name.replace("_", "-")
        if f.metadata["kind"] == "bool":
            p.add_argument(flag, action="store_true", default=None, help=f.metadata["help"])
        else:
            p.add_argument(flag, type=KINDS[f.metadata["kind"]], default=None, help=f.metadata["help"])
    p.add_argument("--bench-json", type=Path, default=BENCH_JSON, help="durations from make bench")
    p.add_argument("--cost-inputs", type=Path, default=COST_INPUTS_JSON, help="benchmarks/bench_cost_inputs.py output")
    p.add_argument("--prices", type=Path, default=PRICES_PATH, help="price data file")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="a JSON array, one object per traffic level")
    out.add_argument("--markdown", action="store_true", help="the summary as a markdown table")
    return p


def inputs_from_args(args: argparse.Namespace) -> Inputs:
    try:
        inputs = default_inputs(args.bench_json, args.cost_inputs)
    except (ValueError, OSError, KeyError) as exc:
        raise SystemExit(f"cost_model: error: argument --bench-json/--cost-inputs: {exc}") from None
    overrides = {}
    for f in FLAGS:
        value = getattr(args, f.name)
        if value is not None:
            overrides[f.name] = int(value) if isinstance(f.default, int) and not isinstance(f.default, bool) else value
    sources = inputs.sources + (("set on the command line: " + ", ".join(overrides),) if overrides else ())
    return dataclasses.replace(inputs, **overrides, sources=sources)


def traffic_levels(requests: Sequence[Decimal] | None, rps: Decimal) -> list[tuple[str, Decimal]]:
    levels = [(f"{_short(r)}/month", r) for r in (requests or [parse_count(t) for t in DEFAULT_REQUESTS])]
    if rps > 0:
        who = " (Product: 2,000 users, 1 req/2 s)" if rps == DEFAULT_RPS else ""
        levels.append((f"{fmt_qty(rps)} req/s steady{who}", rps * SECONDS_PER_MONTH))
    return levels


def _short(q: Decimal) -> str:
    for scale, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if q >= scale and (q / scale) == (q / scale).quantize(Decimal("0.01")):
            return f"{(q / scale).normalize():f}{suffix}"
    return fmt_qty(q)


def render_markdown(scenarios: Sequence[Scenario]) -> str:
    rows = ["| Traffic | Requests/month | PoC $/month | New $/month | CDN floor $/month | New / floor "
            "| CDN bought as | + SLO monitoring $/month |", "|---|---:|---:|---:|---:|---:|---|---:|"]
    for s in scenarios:
        row = s.as_json()
        rows.append(f"| {s.label} | {fmt_qty(s.requests)} | ${to_cents(s.total(s.poc)):,} | ${to_cents(s.new_usd):,} | "
                    f"${to_cents(s.floor_usd):,} | {row['new_to_floor_ratio'] or '-'} | {s.cdn_choice} | "
                    f"${to_cents(s.monitoring_usd):,} |")
    return "\n".join(rows)


def render_text(scenarios: Sequence[Scenario], inputs: Inputs) -> str:
    lines: list[str] = []
    for s in scenarios:
        lines.append(f"=== {s.label}: {fmt_qty(s.requests)} requests/month ===")
        plan = "no published plan covers it" if s.plan is None else f"{s.plan.name} plan ${s.plan.usd:,}/month"
        plan += f", holding the canary's {fmt_qty(s.monitoring_edge_requests)} requests too"
        for title, items in (("PoC: HTTP API -> Lambda x86 -> DynamoDB Scan", s.poc),
                             (f"CDN pay-as-you-go with WAF (flat-rate alternative: {plan})", s.cdn_payg),
                             ("Origin and operations of this design", s.origin),
                             ("SLO monitoring: the freshness canary and the burn-rate alerts (every month)",
                              s.monitoring)):
            lines.append(title)
            for li in items:
                lines.append(f"  {li.service:<11} {li.item:<58} {'$' + format(to_cents(li.usd), ','):>12}")
                lines.append(f"  {'':<11}   {li.working}")
        lines.append(f"  CDN bought as {s.cdn_choice}: floor ${to_cents(s.floor_usd):,}; "
                     f"this design ${to_cents(s.new_usd):,} ({s.as_json()['new_to_floor_ratio']}x the floor); "
                     f"with its SLO monitoring ${to_cents(s.new_usd + s.monitoring_usd):,}")
        lines.append(f"  (the same canary runs on CloudWatch Synthetics would bill ${to_cents(s.synthetics_usd):,} "
                     f"in run fees alone)")
        lines.append("")
    lines += [render_markdown(scenarios), "", "Inputs: " + "; ".join(inputs.sources) + ".",
              "Left out of both: DynamoDB writes and storage (the same in both), S3 and log storage (KBs), stream "
              "reads by Lambda (free), origin-to-CloudFront transfer (free), SNS alarm notifications, WAF logs (only "
              "blocked requests are logged), Lambda volume discounts.",
              "Free tier: " + ("applied per design." if inputs.free_tier else "not applied (use --free-tier).")]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        inputs = inputs_from_args(args)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        return int(exc.code or 0)
    try:
        prices = Prices.load(args.prices)
    except PriceDataError as exc:
        print(f"cost_model: error: argument --prices: {exc}", file=sys.stderr)
        return 2
    scenarios = [build_scenario(label, r, inputs, prices) for label, r in traffic_levels(args.requests, args.rps)]
    if args.json:
        print(json.dumps([s.as_json() for s in scenarios], indent=2))
    elif args.markdown:
        print(render_markdown(scenarios))
    else:
        print(render_text(scenarios, inputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
