"""The cost model's arithmetic, checked against hand computations, and its CLI contract."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cost_model.py"


def _load():
    # scripts/ is not a package; register the module so dataclasses can resolve it.
    spec = importlib.util.spec_from_file_location("cost_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["cost_model"] = module
    spec.loader.exec_module(module)
    return module


cm = _load()
PRICES = cm.Prices.load()
GIB = Decimal(2**30)


def _line(items, item_prefix):
    matches = [li for li in items if li.item.startswith(item_prefix)]
    assert len(matches) == 1, [li.item for li in items]
    return matches[0]


def test_poc_hand_computed_one_million_requests_128mb_100ms():
    # 1,000,000 requests, table 25 x 200 B = 5,000 B, response 5,000 B, whole event logged as 2,000 B:
    #   HTTP API     1e6 x $1.00/1M                               = $1.00
    #   Lambda req   1e6 x $0.20/1M                               = $0.20
    #   Lambda GB-s  1e6 x 0.100 s x 128/1024 GB = 12,500 GB-s
    #                12,500 x $0.0000166667                        = $0.20833375
    #   DynamoDB     ceil(5,000 / 4,096) = 2 units x 0.5 (eventually consistent) = 1 RRU per request
    #                1e6 RRU x $0.125/1M                           = $0.125
    #   Logs         1e6 x 2,000 B / 2^30 = 1.862645... GB x $0.50 = $0.931322...
    #   Transfer     1e6 x 5,000 B / 2^30 = 4.656612... GB x $0.09 = $0.419095...
    #   Total                                                      = $2.883751... -> $2.88
    inputs = cm.Inputs(poc_duration_ms=Decimal(100), poc_memory_mb=128, poc_log_bytes=2000)
    items = cm.poc_line_items(Decimal(1_000_000), inputs, PRICES)

    assert _line(items, "HTTP API requests").usd == Decimal("1.00")
    assert _line(items, "requests (x86)").usd == Decimal("0.20")
    gbs = _line(items, "compute x86")
    assert gbs.quantity == Decimal(12_500)
    assert gbs.usd == Decimal("0.20833375")
    rru = _line(items, "Scan read units")
    assert rru.quantity == Decimal(1_000_000)
    assert rru.usd == Decimal("0.125")
    logs = _line(items, "Logs ingestion")
    assert logs.usd == pytest.approx(Decimal(2_000_000_000) / GIB * Decimal("0.5"), abs=Decimal("1e-12"))
    out = _line(items, "data transfer out")
    assert out.usd == pytest.approx(Decimal(5_000_000_000) / GIB * Decimal("0.09"), abs=Decimal("1e-12"))

    total = sum(li.usd for li in items)
    assert total == pytest.approx(Decimal("2.883751"), abs=Decimal("1e-6"))
    assert cm.to_cents(total) == Decimal("2.88")


def test_new_design_hand_computed_ten_million_requests():
    # 10,000,000 reads, 5% are /api/* and none of those hit the cache; the rest hit 95% of the time:
    #   CloudFront requests  1e7 x $0.0100/10k                          = $10.00
    #   S3 GET on miss       9.5e6 x (1 - 0.95) = 475,000 x $0.0004/1k = $0.19
    #   HTTP API             5e5 x $1.00/1M                             = $0.50
    #   Lambda req           5e5 x $0.20/1M                             = $0.10
    #   Lambda GB-s arm64    5e5 x 0.030 s x 512/1024 GB = 7,500 GB-s x $0.0000133334 = $0.100000500
    inputs = cm.Inputs(read_duration_ms=Decimal(30), lambda_memory_mb=512)
    items = cm.new_line_items(Decimal(10_000_000), inputs, PRICES)

    assert _line(items, "HTTPS requests").usd == Decimal("10.00")
    miss = _line(items, "GET on edge miss")
    assert miss.quantity == Decimal(475_000)
    assert miss.usd == Decimal("0.19")
    assert _line(items, "HTTP API requests").usd == Decimal("0.50")
    assert _line(items, "read requests").usd == Decimal("0.10")
    compute = _line(items, "read compute")
    assert compute.quantity == Decimal(7_500)
    assert compute.usd == Decimal("0.100000500")


def test_tiered_prices_split_at_the_tier_boundary():
    # HTTP API at 1B: 300M x $1.00/M + 700M x $0.90/M = $300 + $630 = $930.
    usd, working = PRICES["http_api_requests"].cost(Decimal(1_000_000_000))
    assert usd == Decimal(930)
    assert "300,000,000 x $1.00/1M + 700,000,000 x $0.90/1M" in working
    # CloudFront 12,000 GB: 10,240 x $0.085 + 1,760 x $0.080 = $870.40 + $140.80 = $1,011.20.
    usd, _ = PRICES["cloudfront_data_transfer_out"].cost(Decimal(12_000))
    assert usd == Decimal("1011.20")


def test_scan_units_single_page_stops_at_one_megabyte():
    # 10,000 x 200 B = 2,000,000 B. One page reads 1 MiB: 256 x 4 KB x 0.5 = 128 RRU.
    # Paginated: ceil(2,000,000 / 4,096) = 489 units x 0.5 = 244.5 RRU.
    assert cm.scan_read_units(2_000_000, single_page=True) == Decimal(128)
    assert cm.scan_read_units(2_000_000, single_page=False) == Decimal("244.5")
    assert cm.scan_read_units(0, single_page=True) == Decimal("0.5")


def test_lambda_duration_is_rounded_up_to_the_millisecond():
    assert cm.lambda_gb_seconds(Decimal(1000), Decimal("0.2"), 1024) == Decimal(1)


def test_requests_from_rps_uses_a_730_hour_month():
    # 1,000 req/s x 730 h x 3,600 s = 2,628,000,000.
    assert cm.requests_from_rps(Decimal(1000)) == Decimal(2_628_000_000)


def test_free_tier_credit_offsets_the_cloudfront_allowance():
    # 10M requests at $0.01/10k = $10.00, all inside the 10M always-free requests.
    inputs = cm.Inputs(free_tier=True)
    scenario = cm.build_scenario("t", Decimal(10_000_000), inputs, PRICES)
    credits = [li for li in scenario.new if li.service == "Free tier"]
    cf = next(li for li in credits if li.price_key == "cloudfront_https_requests")
    assert cf.usd == Decimal("-10.00")
    assert scenario.new_total < cm.build_scenario("t", Decimal(10_000_000), cm.Inputs(), PRICES).new_total


def test_flat_rate_picks_the_cheapest_plan_that_covers_the_traffic():
    scenario = cm.build_scenario("t", Decimal(10_000_000), cm.Inputs(), PRICES)
    assert scenario.flat_rate.plan.name == "Pro"
    assert "Pro plan $15/month" in scenario.flat_rate.note()
    beyond = cm.build_scenario("t", Decimal(7_000_000_000), cm.Inputs(), PRICES)
    assert beyond.flat_rate.plan is None


def _run(capsys, *argv):
    code = cm.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_is_an_array_with_the_required_keys(capsys):
    code, out, _ = _run(capsys, "--json")
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows, list)
    assert [r["requests_per_month"] for r in rows] == [10**6, 10**7, 10**8, 10**9, 2_628_000_000]
    for row in rows:
        assert {"requests_per_month", "poc_usd_month", "new_usd_month"} <= row.keys()
        assert row["poc_line_items"] and row["new_line_items"]
        assert row["poc_usd_month"] == pytest.approx(sum(li["usd"] for li in row["poc_line_items"]), abs=0.06)
        assert "note" in row["cloudfront_flat_rate"]


def test_new_design_is_cheaper_from_ten_million_requests_with_defaults(capsys):
    _, out, _ = _run(capsys, "--json")
    for row in json.loads(out):
        if row["requests_per_month"] >= 10_000_000:
            assert row["new_usd_month"] < row["poc_usd_month"], row["label"]


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=10_000_000, max_value=20_000_000_000))
def test_new_design_is_cheaper_at_any_traffic_from_ten_million(requests):
    scenario = cm.build_scenario("p", Decimal(requests), cm.Inputs(), PRICES)
    assert scenario.new_total < scenario.poc_total


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=10**10), st.integers(min_value=0, max_value=10**9))
def test_cost_never_falls_as_traffic_grows(requests, extra):
    lo = cm.build_scenario("a", Decimal(requests), cm.Inputs(), PRICES)
    hi = cm.build_scenario("b", Decimal(requests + extra), cm.Inputs(), PRICES)
    assert hi.poc_total >= lo.poc_total
    assert hi.new_total >= lo.new_total


def test_text_output_shows_the_working_per_line_item(capsys):
    code, out, _ = _run(capsys, "--requests", "1M", "--rps", "0")
    assert code == 0
    assert "1,000,000 x $0.20/1M = $0.20" in out
    assert "CloudFront flat-rate alternative" in out
    assert re.search(r"\| 1M/month \| 1,000,000 \| \$\d", out)


def test_requests_accept_lists_and_suffixes(capsys):
    _, out, _ = _run(capsys, "--json", "--requests", "2.5k,3M", "--requests", "1000", "--rps", "0")
    assert [r["requests_per_month"] for r in json.loads(out)] == [2500, 3_000_000, 1000]


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--requests=-1M"], "--requests"),
        (["--requests", "-1000000"], "--requests"),
        (["--requests", "lots"], "--requests"),
        (["--hit-ratio", "1.5"], "--hit-ratio"),
        (["--api-share", "-0.1"], "--api-share"),
        (["--lambda-memory-mb", "64"], "--lambda-memory-mb"),
        (["--table-items", "2.5"], "--table-items"),
        (["--rps", "nan"], "--rps"),
    ],
)
def test_bad_input_exits_2_naming_the_flag(capsys, argv, flag):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert f"argument {flag}" in err


def test_bench_json_supplies_measured_durations(tmp_path, capsys):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"poc_handler_ms": 200, "read_handler_ms": {"mean": 12.2, "p99": 40}}))
    code, out, _ = _run(capsys, "--json", "--bench-json", str(bench), "--requests", "1M", "--rps", "0")
    assert code == 0
    row = json.loads(out)[0]
    poc = next(li for li in row["poc_line_items"] if li["price"] == "lambda_gb_s_x86")
    # 1e6 x 200 ms x 128/1024 GB = 25,000 GB-s.
    assert poc["quantity"] == 25_000
    read = next(li for li in row["new_line_items"] if li["item"].startswith("read compute"))
    # 50,000 API calls x ceil(12.2) = 13 ms x 512/1024 GB = 325 GB-s.
    assert read["quantity"] == 325


def test_missing_bench_json_falls_back_to_placeholders(tmp_path, capsys):
    code, out, err = _run(
        capsys, "--bench-json", str(tmp_path / "none.json"), "--requests", "1M", "--rps", "0"
    )
    assert code == 0
    assert "not found" in err
    assert "placeholders until make bench runs" in out


def test_bad_bench_json_exits_2(tmp_path, capsys):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"poc_handler_ms": -3}))
    code, _, err = _run(capsys, "--bench-json", str(bench))
    assert code == 2
    assert "argument --bench-json" in err


def test_every_price_names_its_source_and_date():
    raw = json.loads((SCRIPT.parent / "prices.json").read_text())
    sections = [raw["prices"], {k: v for k, v in raw["free_tier"].items() if not k.startswith("_")}]
    for section in sections:
        for key, entry in section.items():
            assert entry["source"].startswith("https://"), key
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["as_of"]), key
    plans = raw["cloudfront_flat_rate_plans"]
    assert plans["source"].startswith("https://") and plans["as_of"]
