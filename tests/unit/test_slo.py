"""The burn-rate arithmetic: thresholds from budget share, window and SLO, and the file Terraform reads."""

from __future__ import annotations

import importlib.util
import json
from fractions import Fraction
from pathlib import Path

import pytest

from publisher.core import slo

REPO = Path(__file__).resolve().parents[2]


def test_the_workbook_tiers_give_their_burn_rates_and_windows() -> None:
    tiers = {t.name: t for t in slo.TIERS}
    assert tiers["fast"].burn_rate == Fraction(72, 5)  # 14.4: 2% of 30 days spent in 1 h
    assert (tiers["fast"].long_window_seconds, tiers["fast"].short_window_seconds) == (3600, 300)
    assert tiers["slow"].burn_rate == 1
    assert (tiers["slow"].long_window_seconds, tiers["slow"].short_window_seconds) == (259200, 21600)
    assert [t.severity for t in slo.TIERS] == ["page", "ticket"]
    medium = slo.Tier("medium", "page", Fraction(5, 100), 6 * 3600)  # the workbook's middle tier
    assert (medium.burn_rate, medium.short_window_seconds) == (6, 1800)


@pytest.mark.parametrize(("target", "tier", "ratio"), [
    (slo.EDGE_AVAILABILITY, "fast", Fraction(72, 10000)),  # 14.4 x 0.05%
    (slo.EDGE_AVAILABILITY, "slow", Fraction(5, 10000)),
    (slo.API_AVAILABILITY, "fast", Fraction(144, 10000)),
    (slo.API_AVAILABILITY, "slow", Fraction(1, 1000)),
    (slo.FRESHNESS, "fast", Fraction(144, 1000)),
    (slo.FRESHNESS, "slow", Fraction(1, 100)),
])
def test_error_ratio_threshold_is_burn_rate_times_budget(target: slo.Slo, tier: str, ratio: Fraction) -> None:
    assert next(t for t in slo.TIERS if t.name == tier).error_ratio(target) == ratio


def test_a_tier_fires_exactly_when_its_share_of_the_budget_is_spent_in_its_window() -> None:
    for target in slo.SLOS:
        for tier in slo.TIERS:
            spent = tier.error_ratio(target) * tier.long_window_seconds
            whole = target.error_budget * slo.PERIOD_SECONDS
            assert spent / whole == tier.budget_fraction


def test_budgets_in_minutes_and_time_to_exhaustion() -> None:
    assert slo.EDGE_AVAILABILITY.budget_minutes() == pytest.approx(21.6)
    assert slo.API_AVAILABILITY.budget_minutes() == pytest.approx(43.2)
    assert [round(t.hours_to_exhaust(), 1) for t in slo.TIERS] == [50.0, 720.0]


def test_percentages_for_people_are_exact() -> None:
    assert [slo.percent(s.target) for s in slo.SLOS] == ["99.95", "99.9", "99"]
    assert slo.percent(Fraction(72, 10000)) == "0.72" and slo.percent(Fraction(2, 100)) == "2"


def test_window_labels_name_the_alarms() -> None:
    assert [(slo.window_label(t.long_window_seconds), slo.window_label(t.short_window_seconds))
            for t in slo.TIERS] == [("1h", "5m"), ("3d", "6h")]


def test_a_window_cloudwatch_cannot_evaluate_is_refused() -> None:
    with pytest.raises(ValueError, match="tier odd: short window 75 s"):
        slo.check_windows((slo.Tier("odd", "page", Fraction(1, 100), 900),))
    with pytest.raises(ValueError, match="long window 864000 s"):
        slo.check_windows((slo.Tier("long", "ticket", Fraction(1, 10), 10 * 86400),))


def test_the_canary_defaults_to_the_freshness_slo() -> None:
    from publisher.canary.probe import ProbeSettings

    assert slo.FRESHNESS.threshold_seconds == slo.FRESHNESS_TARGET_SECONDS == ProbeSettings().max_freshness == 60


def test_infra_slo_json_is_what_the_python_writes() -> None:
    spec = importlib.util.spec_from_file_location("slo_config", REPO / "scripts" / "slo_config.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (REPO / "infra" / "slo.json").read_text() == module.render(), "run `make slo-config`"
    written = json.loads((REPO / "infra" / "slo.json").read_text())
    assert written["tiers"]["fast"]["burn_rate"] == 14.4
    assert written["slos"]["edge_availability"]["alerts"]["fast"]["error_ratio"] == 0.0072
    assert written["canary"]["heartbeat_key"] == "__canary__/heartbeat"


def test_solution_states_one_freshness_bound_per_path_from_the_settings() -> None:
    """SOLUTION.md section 6's table is the sum of the settings it names; a changed setting fails here."""
    import hcl2
    from hcl2 import SerializationOptions

    from publisher.core.config import BROWSER_MAX_AGE, S_MAXAGE, STALE_WHILE_REVALIDATE

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    blocks = hcl2.loads((REPO / "infra" / "variables.tf").read_text(), serialization_options=options)["variable"]
    defaults = {name: body.get("default") for block in blocks for name, body in block.items()}
    publish = json.loads((REPO / "benchmarks" / "results" / "publish.json").read_text())
    ten_k = next(r for r in publish["results"] if r["models"] == 10_000 and r["feed"])
    origin = defaults["stream_batching_window_seconds"] + round(ten_k["publish_ms"]["median"] / 1000)
    cdn = origin + S_MAXAGE + STALE_WHILE_REVALIDATE
    api = cdn + defaults["snapshot_revalidate_seconds"]
    browser = BROWSER_MAX_AGE + STALE_WHILE_REVALIDATE
    api_browser = 0 + STALE_WHILE_REVALIDATE  # the API's max-age is 0
    from publisher.core.config import API_CACHE_CONTROL

    assert "max-age=0," in API_CACHE_CONTROL
    text = (REPO / "SOLUTION.md").read_text()
    section = text[text.index("**One freshness estimate per read path**"):text.index("The freshness SLO (section 7)")]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith(("| path", "| ---"))]
    assert [row.split("|")[2].strip() for row in rows] == [
        f"{origin} s", f"{cdn} s", f"{api} s", f"its path's bound + {browser} s (`/api/*`: + {api_browser} s)"]
    assert cdn <= slo.FRESHNESS_TARGET_SECONDS, "the CloudFront path's bound must fit the freshness SLO"


def test_every_setting_solution_quotes_by_name_is_the_infra_default() -> None:
    """`3,600 s (`stream_max_record_age_seconds`)`: a figure followed by the variable it comes from is that
    variable's default in infra/variables.tf (the runbook's record age once contradicted the stack)."""
    import re

    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    blocks = hcl2.loads((REPO / "infra" / "variables.tf").read_text(), serialization_options=options)["variable"]
    defaults = {name: body.get("default") for block in blocks for name, body in block.items()}
    text = " ".join((REPO / "SOLUTION.md").read_text().split())
    quoted = re.compile(r"(\d[\d,]*(?:\.\d+)?) ?(?:ms|s|days|retries|records)? \(((?:`[a-z0-9_]+`(?:, )?)+)")
    checked, wrong = [], []
    for match in quoted.finditer(text):
        names = [n for n in re.findall(r"`([a-z0-9_]+)`", match.group(2)) if n in defaults]
        if not names:
            continue
        figure = float(match.group(1).replace(",", ""))
        checked.append(names[0])
        if not any(isinstance(defaults[n], int | float) and float(defaults[n]) == figure for n in names):
            wrong.append(f"{match.group(0)} -> {[(n, defaults[n]) for n in names]}")
    assert not wrong, wrong
    assert {"stream_max_record_age_seconds", "stream_max_retries", "stream_batching_window_seconds"} <= set(checked)
