"""Service level objectives, and the multiwindow, multi-burn-rate alert thresholds derived from them.

The arithmetic is the Google SRE Workbook's ("Alerting on SLOs"): an alert that fires when a share
`f` of the period's error budget is spent within a long window `W` watches for a burn rate of
`f * period / W` (a burn rate of 1 spends the budget exactly over the period), i.e. an error ratio
of `burn_rate * (1 - target)`. A short window of `W / 12` must agree, so the alert stops soon after
the burning stops. This module is the only place these numbers are computed: `scripts/slo_config.py`
writes them to `infra/slo.json`, which Terraform reads, and the canary takes its default from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

PERIOD_DAYS = 30
PERIOD_SECONDS = PERIOD_DAYS * 86_400
SHORT_WINDOW_DIVISOR = 12
# CloudWatch alarm periods are whole minutes, and period x evaluation periods may span at most seven
# days (PutMetricAlarm's limit; each window here is one period evaluated once).
MAX_PERIOD_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class Slo:
    name: str
    target: Fraction  # the share of good events, e.g. 9995/10000
    sli: str  # what counts as good, in words (SOLUTION.md and alarm descriptions)
    threshold_seconds: int | None = None  # freshness only: "good" means visible within this

    @property
    def error_budget(self) -> Fraction:
        return 1 - self.target

    def budget_minutes(self) -> float:
        """The budget as time fully down over the period (availability SLOs)."""
        return float(self.error_budget * PERIOD_SECONDS / 60)


@dataclass(frozen=True)
class Tier:
    name: str
    severity: str  # "page" | "ticket"
    budget_fraction: Fraction  # share of the period's budget spent within the long window
    long_window_seconds: int

    @property
    def short_window_seconds(self) -> int:
        return self.long_window_seconds // SHORT_WINDOW_DIVISOR

    @property
    def burn_rate(self) -> Fraction:
        return self.budget_fraction * PERIOD_SECONDS / self.long_window_seconds

    def error_ratio(self, slo: Slo) -> Fraction:
        """The bad-event ratio over either window at which this tier fires for `slo`."""
        return self.burn_rate * slo.error_budget

    def hours_to_exhaust(self) -> float:
        """How long a burn at exactly this rate takes to spend the whole budget."""
        return float(Fraction(PERIOD_SECONDS, 3600) / self.burn_rate)


EDGE_AVAILABILITY = Slo("edge_availability", Fraction(9995, 10000),
                        "responses of the CloudFront distribution that are not 5xx")
API_AVAILABILITY = Slo("api_availability", Fraction(999, 1000),
                       "read API (/api/*) responses that are not 5xx")
FRESHNESS_TARGET_SECONDS = 60
FRESHNESS = Slo("freshness", Fraction(99, 100),
                f"canary heartbeats visible at the edge within {FRESHNESS_TARGET_SECONDS} s of the write",
                threshold_seconds=FRESHNESS_TARGET_SECONDS)
SLOS = (EDGE_AVAILABILITY, API_AVAILABILITY, FRESHNESS)

# The workbook's middle tier (5% in 6 h, burn 6, a page) is one more entry here, left out on
# purpose: it would page for burns between 6x and 14.4x, which the slow tier tickets within hours
# (a 10x burn crosses its 3-day threshold after 7.2 h), for three more composite alarms and ten more
# alarm metrics ($2.50 a month at scripts/prices.json's prices).
TIERS = (
    Tier("fast", "page", Fraction(2, 100), 3600),  # 2% in 1 h: burn 14.4, windows 1 h and 5 min
    Tier("slow", "ticket", Fraction(10, 100), 3 * 86_400),  # 10% in 3 days: burn 1, windows 3 d and 6 h
)


def check_windows(tiers: tuple[Tier, ...] = TIERS) -> None:
    """Every window must be a valid CloudWatch alarm period; ValueError names the one that is not."""
    for tier in tiers:
        for label, seconds in (("long", tier.long_window_seconds), ("short", tier.short_window_seconds)):
            if seconds % 60 or not 60 <= seconds <= MAX_PERIOD_SECONDS:
                raise ValueError(f"tier {tier.name}: {label} window {seconds} s is not a whole number of "
                                 f"minutes between 1 minute and 7 days")


def window_label(seconds: int) -> str:
    """`300` -> `5m`, `3600` -> `1h`, `259200` -> `3d`: the suffix of a window's alarm name."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def percent(value: Fraction) -> str:
    """An exact share as a percentage for people: 9995/10000 -> "99.95", 1/50 -> "2"."""
    text = f"{float(value * 100):.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _number(value: Fraction) -> float:
    # Exact fractions, rounded once for JSON: 14.4 stays 14.4, not 14.399999999999999.
    return round(float(value), 10)


def config() -> dict[str, Any]:
    """Everything the infrastructure needs: targets, budgets, burn rates, windows, thresholds."""
    check_windows()
    return {
        "period_days": PERIOD_DAYS,
        "slos": {
            slo.name: {
                "target": _number(slo.target),
                "target_percent": percent(slo.target),
                "error_budget": _number(slo.error_budget),
                "sli": slo.sli,
                "threshold_seconds": slo.threshold_seconds,
                "alerts": {
                    tier.name: {"error_ratio": _number(tier.error_ratio(slo)),
                                "error_ratio_percent": percent(tier.error_ratio(slo))} for tier in TIERS
                },
            }
            for slo in SLOS
        },
        "tiers": {
            tier.name: {
                "severity": tier.severity,
                "budget_fraction": _number(tier.budget_fraction),
                "budget_percent": percent(tier.budget_fraction),
                "burn_rate": _number(tier.burn_rate),
                "long_window_seconds": tier.long_window_seconds,
                "short_window_seconds": tier.short_window_seconds,
                "long_window_label": window_label(tier.long_window_seconds),
                "short_window_label": window_label(tier.short_window_seconds),
            }
            for tier in TIERS
        },
    }
