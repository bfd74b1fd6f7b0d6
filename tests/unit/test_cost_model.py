"""The cost model's arithmetic against hand computations, its inputs' sources, the CDN floor and the CLI contract."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))


def _load():
    spec = importlib.util.spec_from_file_location("cost_model", SCRIPTS / "cost_model.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["cost_model"] = module
    spec.loader.exec_module(module)
    return module


cm = _load()
from cost import inputs as cost_inputs  # noqa: E402
from cost.items import (  # noqa: E402
    CDN_PAYG,
    ORIGIN,
    POC,
    Traffic,
    evaluate,
    lambda_gb_seconds,
    scan_read_units,
    xray_traces,
)
from cost.prices import Prices  # noqa: E402

PRICES = Prices.load()
GIB = Decimal(2**30)
DEFAULTS = cost_inputs.default_inputs()


def _line(items, prefix):
    matches = [li for li in items if li.item.startswith(prefix)]
    assert len(matches) == 1, [li.item for li in items]
    return matches[0]


def _traffic(requests: int, inputs=DEFAULTS) -> Traffic:
    return Traffic(Decimal(requests), inputs, PRICES.gb_bytes)


def test_poc_hand_computed_one_million_requests_128mb_100ms():
    # 1e6 requests, table 25 x 200 B = 5,000 B, whole event logged as 2,000 B:
    #   HTTP API 1e6 x $1.00/1M = $1.00; Lambda req 1e6 x $0.20/1M = $0.20
    #   GB-s 1e6 x 0.1 s x 128/1024 = 12,500 x $0.0000166667 = $0.20833375
    #   Scan ceil(5,000/4,096) = 2 units x 0.5 = 1 RRU per request -> $0.125
    #   Logs 1e6 x 2,000 B / 2^30 x $0.50; transfer 1e6 x 5,000 B / 2^30 x $0.09
    inputs = dataclasses.replace(DEFAULTS, table_items=25, item_bytes=200, poc_duration_ms=Decimal(100),
                                 poc_memory_mb=128, poc_log_bytes=2000)
    items = evaluate(POC, _traffic(1_000_000, inputs), PRICES)
    assert _line(items, "HTTP API requests").usd == Decimal("1.00")
    assert _line(items, "requests (x86)").usd == Decimal("0.20")
    gbs = _line(items, "compute x86")
    assert (gbs.quantity, gbs.usd) == (Decimal(12_500), Decimal("0.20833375"))
    assert _line(items, "Scan read units").usd == Decimal("0.125")
    assert _line(items, "Logs ingestion").usd == pytest.approx(Decimal(2 * 10**9) / GIB / 2, abs=Decimal("1e-12"))
    out = _line(items, "data transfer out")
    assert out.usd == pytest.approx(Decimal(5 * 10**9) / GIB * Decimal("0.09"), abs=Decimal("1e-12"))


def test_cdn_hand_computed_at_ten_million_with_measured_compressed_bytes():
    # 9.5M snapshot reads x 1,000 B + 0.5M API reads x 2,000 B = 10.5e9 B / 2^30 GB at $0.085;
    # requests 1e7 x $0.01/10k = $10; WAF $5 ACL + 5 x $1 rules + 10 x $0.60 requests = $16.
    inputs = dataclasses.replace(DEFAULTS, snapshot_response_bytes=1000, api_response_bytes=2000, waf_rules=5)
    items = evaluate(CDN_PAYG, _traffic(10_000_000, inputs), PRICES)
    assert _line(items, "HTTPS requests").usd == Decimal(10)
    transfer = _line(items, "data transfer out")
    assert transfer.usd == pytest.approx(Decimal("10.5e9") / GIB * Decimal("0.085"), abs=Decimal("1e-9"))
    assert sum(li.usd for li in items if li.service == "WAF") == Decimal(16)


def test_origin_items_bill_the_deployed_memory_and_measured_requests():
    # 5e5 API reads x 1 ms x 256/1024 GB = 125 GB-s; publisher 10,730 runs x 1,001 ms x 512/1024.
    inputs = dataclasses.replace(DEFAULTS, read_duration_ms=Decimal("0.075"), publisher_duration_ms=Decimal(1001),
                                 read_memory_mb=256, publisher_memory_mb=512, s3_puts_per_publish=21,
                                 s3_puts_per_reconcile=1)
    items = evaluate(ORIGIN, _traffic(10_000_000, inputs), PRICES)
    assert _line(items, "read compute").quantity == Decimal(125)
    assert _line(items, "publisher compute").quantity == Decimal(10_730) * Decimal("1.001") / 2
    assert _line(items, "PUT per publish").quantity == Decimal(10_000 * 21 + 730 * 1)
    assert _line(items, "read traces").quantity == 0  # PassThrough by default
    assert _line(items, "dashboard").usd == Decimal(3)


def test_dated_snapshots_are_billed_by_storage_class_hand_computed():
    # 10,000 models x 154 B + 200 B = 1,540,200 B a copy, over 128 KB: of 365 copies, 335 are older
    # than 30 days (STANDARD_IA at $0.0125/GB-month), 30 are not (STANDARD at $0.023).
    inputs = dataclasses.replace(DEFAULTS, table_items=10_000, snapshot_model_bytes=154, snapshot_days_kept=365,
                                 snapshot_transition_days=30)
    items = evaluate(ORIGIN, _traffic(1_000_000, inputs), PRICES)
    standard, infrequent = _line(items, "dated snapshots, recent"), _line(items, "dated snapshots, older")
    assert infrequent.quantity == Decimal(335 * 1_540_200) / GIB
    assert standard.quantity == Decimal(30 * 1_540_200) / GIB
    assert infrequent.usd == infrequent.quantity * Decimal("0.0125")
    assert standard.usd == standard.quantity * Decimal("0.023")
    assert _line(items, "dated snapshot and index PUTs").quantity == 2 * (Decimal(730) / 24)


def test_the_version_history_a_year_in_is_billed_hand_computed():
    # 10,000 writes a month = 10,000 / (730/24) a day; a year (365 days) of them is 120,000 versions:
    # logs of 1,374 B each, and one checkpoint (a copy of llms.json, 1,540,200 B) per 32 versions.
    inputs = dataclasses.replace(DEFAULTS, table_items=10_000, snapshot_model_bytes=154, history_days_kept=365,
                                 log_version_bytes=1_374, writes_per_month=Decimal(10_000))
    items = evaluate(ORIGIN, _traffic(1_000_000, inputs), PRICES)
    versions = Decimal(10_000) / (Decimal(730) / 24) * 365
    assert round(versions) == 120_000
    assert _line(items, "version log, a year in").quantity == versions * 1_374 / GIB
    assert _line(items, "version checkpoints, a year in").quantity == Decimal(3_750 * 1_540_200) / GIB
    assert _line(items, "version checkpoints, a year in").usd == Decimal(3_750 * 1_540_200) / GIB * Decimal("0.023")
    assert _line(items, "checkpoint and index PUTs").quantity == 2 * Decimal(10_000) / 32


def test_small_dated_snapshots_stay_in_standard():
    # 29 models: 4,666 B a copy, under S3's 128 KB floor for transitions, so nothing moves to IA.
    inputs = dataclasses.replace(DEFAULTS, table_items=29, snapshot_model_bytes=154, snapshot_days_kept=365)
    items = evaluate(ORIGIN, _traffic(1_000_000, inputs), PRICES)
    assert _line(items, "dated snapshots, older").quantity == 0
    assert _line(items, "dated snapshots, recent").quantity == Decimal(365 * 4_666) / GIB


def test_the_transition_age_comes_from_infra():
    assert DEFAULTS.snapshot_transition_days == cost_inputs.infra_inputs()["snapshot_transition_days"] == 30


def test_inputs_come_from_infra_and_the_benchmark():
    measured = json.loads(cost_inputs.COST_INPUTS_JSON.read_text())
    snapshot = measured["edge_bytes_brotli"]["snapshot"]
    assert DEFAULTS.snapshot_response_bytes == snapshot["body"] + snapshot["headers"]
    assert measured["edge_bytes_brotli"]["snapshot"]["encoding"] == "br"
    assert DEFAULTS.s3_puts_per_publish == measured["s3_requests_per_stream_publish"]["PutObject"]
    assert DEFAULTS.custom_metrics == len(measured["custom_metrics_normal_month"])
    # infra/variables.tf: the read function runs 256 MB, the publisher 1024 MB; read tracing PassThrough.
    assert (DEFAULTS.read_memory_mb, DEFAULTS.publisher_memory_mb, DEFAULTS.read_traced) == (256, 1024, False)
    infra = "\n".join(p.read_text() for p in (SCRIPTS.parent / "infra").glob("*.tf"))
    # Cause alarms one metric each; the two for_each blocks of burn-rate windows are counted from slo.json.
    assert DEFAULTS.alarms == len(re.findall(r'resource "aws_cloudwatch_metric_alarm"', infra)) - 2
    slo = json.loads((SCRIPTS.parent / "infra" / "slo.json").read_text())
    # edge: one metric (5xxErrorRate); API and freshness: bad and total.
    assert DEFAULTS.slo_alarm_metrics == 2 * len(slo["tiers"]) * (1 + 2 + 2)
    assert DEFAULTS.composite_alarms == len(slo["slos"]) * len(slo["tiers"])
    assert DEFAULTS.canary_runs_per_month == 730 * 12  # rate(5 minutes)
    assert DEFAULTS.canary_edge_requests == slo["canary"]["edge_requests_per_run"]
    assert DEFAULTS.heartbeat_s3_puts == measured["s3_requests_per_heartbeat"]["PutObject"]
    assert DEFAULTS.canary_custom_metrics == len(measured["canary_custom_metrics_normal_month"])
    assert DEFAULTS.waf_rules == (SCRIPTS.parent / "infra" / "waf.tf").read_text().count("\n  rule {\n")


def test_xray_samples_one_per_second_then_five_percent():
    month = Decimal(730 * 3600)
    assert xray_traces(Decimal(1000)) == 1000
    assert xray_traces(month * 3) == month + month * 2 * Decimal("0.05")


def test_tiered_prices_split_at_the_tier_boundary():
    usd, working = PRICES["http_api_requests"].cost(Decimal(1_000_000_000))
    assert usd == Decimal(930) and "300,000,000 x $1.00/1M + 700,000,000 x $0.90/1M" in working
    assert PRICES["cloudfront_data_transfer_out"].cost(Decimal(12_000))[0] == Decimal("1011.20")


def test_scan_units_and_lambda_rounding():
    assert scan_read_units(2_000_000, single_page=True) == Decimal(128)
    assert scan_read_units(2_000_000, single_page=False) == Decimal("244.5")
    assert lambda_gb_seconds(Decimal(1000), Decimal("0.2"), 1024) == Decimal(1)


def test_floor_is_the_cheaper_of_pay_as_you_go_and_the_covering_plan():
    # 9.9M of traffic and the canary's ~0.1M fit Pro's 10M; 10M and the canary do not.
    ten = cm.build_scenario("t", Decimal(9_900_000), DEFAULTS, PRICES)
    assert (ten.cdn_choice, ten.floor_usd) == ("Pro", Decimal(15))
    assert ten.cdn_payg_usd > 15
    hundred = cm.build_scenario("h", Decimal(100_000_000), DEFAULTS, PRICES)
    assert hundred.cdn_choice == cm.PAYG and hundred.floor_usd == hundred.cdn_payg_usd < 200
    assert hundred.new_usd == hundred.floor_usd + sum(li.usd for li in hundred.origin)
    assert cm.build_scenario("x", Decimal(7 * 10**9), DEFAULTS, PRICES).plan is None


def test_design_is_within_the_targets_of_the_floor():
    assert cm.build_scenario("t", Decimal(10**7), DEFAULTS, PRICES).as_json()["new_to_floor_ratio"] <= 1.5


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=10**8, max_value=2 * 10**10))
def test_design_is_within_ten_percent_of_the_floor_from_100m(requests):
    scenario = cm.build_scenario("p", Decimal(requests), DEFAULTS, PRICES)
    assert scenario.new_usd <= scenario.floor_usd * Decimal("1.1")


def test_design_is_cheaper_than_the_poc_at_ten_million_on_the_pro_plan():
    # 9.9M: Pro's 10M holds the traffic and the canary's ~0.1M (exactly 10M of traffic does not).
    scenario = cm.build_scenario("t", Decimal(9_900_000), DEFAULTS, PRICES)
    assert scenario.cdn_choice == "Pro"
    assert scenario.new_usd < scenario.total(scenario.poc)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2 * 10**7, max_value=2 * 10**10))
def test_design_is_cheaper_than_the_poc_from_twenty_million(requests):
    # Just past the Pro plan's 10M, pay-as-you-go WAF ($10/month fixed) makes it dearer up to ~17M.
    scenario = cm.build_scenario("p", Decimal(requests), DEFAULTS, PRICES)
    assert scenario.new_usd < scenario.total(scenario.poc)


def test_free_tier_credits_offset_the_allowances():
    free = cm.build_scenario("f", Decimal(10**7), dataclasses.replace(DEFAULTS, free_tier=True), PRICES)
    credits = [li for li in free.cdn_payg if li.service == "Free tier"]
    assert next(li for li in credits if li.price_key == "cloudfront_https_requests").usd == Decimal("-10.00")
    assert next(li for li in free.origin if li.price_key == "cloudwatch_dashboard" and li.usd < 0).usd == -3


def _run(capsys, *argv):
    code = cm.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_rows_carry_the_floor_and_the_choice(capsys):
    code, out, _ = _run(capsys, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["requests_per_month"] for r in rows] == [10**6, 10**7, 10**8, 10**9, 2_628_000_000]
    for row in rows:
        assert {"poc_usd_month", "new_usd_month", "floor_usd_month", "cdn_choice", "new_to_floor_ratio"} <= row.keys()
        assert row["new_usd_month"] >= row["floor_usd_month"]
        items = row["origin_line_items"] + (row["cdn_payg_line_items"] if row["cdn_choice"] == "pay-as-you-go" else [])
        extra = 0 if row["cdn_choice"] == "pay-as-you-go" else row["cdn_flat_rate_plan"]["usd_month"]
        assert row["new_usd_month"] == pytest.approx(sum(li["usd"] for li in items) + extra, abs=0.2)


def test_text_output_shows_the_working(capsys):
    code, out, _ = _run(capsys, "--requests", "500k", "--rps", "0")
    assert code == 0
    assert "500,000 x $0.20/1M = $0.10" in out
    assert "CDN bought as Free" in out  # 500k and the canary's ~0.1M fit the Free plan's 1M
    assert re.search(r"\| 500k/month \| 500,000 \| \$\d", out)


def test_flags_are_generated_from_the_inputs(capsys):
    _, out, _ = _run(capsys, "--json", "--requests", "10M", "--rps", "0", "--read-memory-mb", "1024",
                     "--writes-per-month", "1k")
    row = json.loads(out)[0]
    compute = next(li for li in row["origin_line_items"] if li["item"].startswith("read compute"))
    assert "1024/1024 GB" in compute["working"]
    runs = next(li for li in row["origin_line_items"] if li["item"].startswith("publisher requests"))
    assert runs["quantity"] == 1730


@pytest.mark.parametrize(("argv", "flag"), [
    (["--requests=-1M"], "--requests"), (["--requests", "lots"], "--requests"), (["--hit-ratio", "1.5"], "--hit-ratio"),
    (["--api-share", "-0.1"], "--api-share"), (["--read-memory-mb", "64"], "--read-memory-mb"),
    (["--table-items", "2.5"], "--table-items"), (["--rps", "nan"], "--rps"),
])
def test_bad_input_exits_2_naming_the_flag(capsys, argv, flag):
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, "")
    assert f"argument {flag}" in err


def test_bad_bench_json_exits_2(tmp_path, capsys):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"poc_handler_ms": -3}))
    code, _, err = _run(capsys, "--bench-json", str(bench))
    assert code == 2 and "--bench-json" in err


def test_every_price_names_its_source_and_date():
    raw = json.loads((SCRIPTS / "prices.json").read_text())
    for section in (raw["prices"], {k: v for k, v in raw["free_tier"].items() if not k.startswith("_")}):
        for key, entry in section.items():
            assert entry["source"].startswith("https://"), key
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["as_of"]), key
    plans = raw["cloudfront_flat_rate_plans"]
    assert plans["source"].startswith("https://") and plans["levels_source"].startswith("https://")


def test_slo_monitoring_is_a_fixed_monthly_amount_apart_from_serving():
    small = cm.build_scenario("s", Decimal(10**6), DEFAULTS, PRICES)
    large = cm.build_scenario("l", Decimal(10**9), DEFAULTS, PRICES)
    assert small.monitoring_usd == large.monitoring_usd > 0
    assert _line(small.monitoring, "composite alarms").usd == Decimal("0.50") * DEFAULTS.composite_alarms
    assert _line(small.monitoring, "burn-rate window alarms").usd == Decimal("0.10") * DEFAULTS.slo_alarm_metrics
    row = small.as_json()
    assert row["new_with_slo_monitoring_usd_month"] == pytest.approx(row["new_usd_month"]
                                                                     + row["slo_monitoring_usd_month"], abs=0.011)
    assert "slo_monitoring_line_items" in row


def test_the_scheduled_lambda_canary_costs_far_less_than_synthetics_runs():
    scenario = cm.build_scenario("s", Decimal(10**6), DEFAULTS, PRICES)
    canary = sum(li.usd for li in scenario.monitoring if "alarm" not in li.item)
    assert scenario.synthetics_usd == Decimal("0.0012") * DEFAULTS.canary_runs_per_month
    assert canary * 5 < scenario.synthetics_usd


def test_schedules_count_their_runs_in_a_730_hour_month():
    from cost.inputs import runs_per_month

    assert runs_per_month("rate(1 minute)") == 43_800
    assert runs_per_month("rate(5 minutes)") == 8_760
    with pytest.raises(ValueError, match="cron"):
        runs_per_month("cron(0 * * * ? *)")


def test_solution_states_the_slo_monitoring_figures_make_cost_computes():
    """SOLUTION.md sections 7 and 9 quote the monitoring's cost: each figure is what the model computes now."""
    scenario = cm.build_scenario("s", Decimal(10**6), DEFAULTS, PRICES)
    alerts = sum(li.usd for li in scenario.monitoring if "alarm" in li.item)
    canary = scenario.monitoring_usd - alerts
    text = " ".join((SCRIPTS.parent / "SOLUTION.md").read_text().split())
    observability = text[text.index("## 7. Observability"):text.index("## 8. Security")]
    cost = text[text.index("## 9. Cost"):text.index("## 10. Migration")]
    runs = f"{DEFAULTS.canary_runs_per_month:,}"
    assert (f"the same {runs} runs a month would bill ${cm.to_cents(scenario.synthetics_usd)} in Synthetics run fees"
            in observability)
    assert f"cost ${cm.to_cents(canary)} a month (`make cost`, section 9)" in observability
    assert f"The SLO monitoring adds ${cm.to_cents(scenario.monitoring_usd)} a month" in cost
    assert (f"${cm.to_cents(alerts)} of alerts ({DEFAULTS.slo_alarm_metrics} window-alarm metrics at $0.10, "
            f"{DEFAULTS.composite_alarms} composites at $0.50) and ${cm.to_cents(canary)} for the canary") in cost


def test_the_plan_picked_holds_the_traffic_and_the_canary_at_every_level():
    """The canary's CloudFront requests count against a plan's allowance: at 1M a month of traffic
    the Free plan (1M) is full, so the plan picked is the next one, and the canary alone stays
    within 10% of the Free plan."""
    canary = DEFAULTS.canary_runs_per_month * DEFAULTS.canary_edge_requests
    free = min(PRICES.plans, key=lambda p: p.requests)
    assert 0 < canary <= free.requests / 10
    for requests in (10**5, 10**6, 10**7, 10**8, 10**9, 2 * 10**9, 35 * 10**8, 6 * 10**9):
        scenario = cm.build_scenario("x", Decimal(requests), DEFAULTS, PRICES)
        assert scenario.as_json()["monitoring_edge_requests_month"] == canary
        if scenario.plan is not None:
            assert scenario.plan.requests >= requests + canary, requests
            cheaper = [p for p in PRICES.plans if p.usd < scenario.plan.usd]
            assert all(p.requests < requests + canary for p in cheaper), requests
    assert cm.build_scenario("x", Decimal(10**6), DEFAULTS, PRICES).plan.name == "Pro"
