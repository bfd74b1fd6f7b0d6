"""What the cost model varies on, and where each default comes from: infra/, make bench, or a stated estimate."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
BENCH_JSON = REPO / "benchmarks" / "results.json"
COST_INPUTS_JSON = REPO / "benchmarks" / "results" / "cost_inputs.json"


def _in(kind: str, help_text: str, default: Any) -> Any:
    """A field with the CLI metadata its flag is generated from (one spelling per input)."""
    return field(default=default, metadata={"kind": kind, "help": help_text})


@dataclass(frozen=True)
class Inputs:
    table_items: int = _in("count", "items in the table (the PoC scans them all per read)", 29)
    item_bytes: int = _in("count", "bytes per item as DynamoDB sizes it", 200)
    hit_ratio: Decimal = _in("ratio", "CDN hit ratio of the snapshot paths (estimate)", Decimal("0.95"))
    api_share: Decimal = _in("ratio", "share of all reads that are /api/* (estimate)", Decimal("0.05"))
    api_hit_ratio: Decimal = _in("ratio", "CDN hit ratio of /api/* (0: every API read runs the function)", Decimal(0))
    poc_memory_mb: int = _in("memory", "PoC Lambda memory (its template)", 128)
    poc_duration_ms: Decimal = _in("ms", "PoC billed duration per request (make bench)", Decimal(120))
    poc_log_bytes: int = _in("count", "log bytes per PoC request, whole event printed (estimate)", 2000)
    read_memory_mb: int = _in("memory", "read function memory (infra/variables.tf default)", 256)
    read_duration_ms: Decimal = _in("ms", "read function billed duration (make bench)", Decimal(30))
    read_log_bytes: int = _in("count", "bytes of the read handler's log line (bench_cost_inputs)", 400)
    platform_log_bytes: int = _in("count", "Lambda's START/END/REPORT lines per invocation (estimate)", 600)
    read_traced: bool = _in("bool", "read function tracing Active (infra default: PassThrough = no traces)", False)
    publisher_memory_mb: int = _in("memory", "publisher memory (infra/variables.tf default)", 1024)
    publisher_duration_ms: Decimal = _in("ms", "publisher billed duration per run (make bench)", Decimal(500))
    publisher_log_bytes: int = _in("count", "publisher log bytes per run (estimate)", 1500)
    writes_per_month: Decimal = _in("requests", "table writes per month, each one publisher run (conservative)",
                                    Decimal(10_000))
    reconciles_per_month: Decimal = _in("requests", "scheduled rebuilds per month (hourly)", Decimal(730))
    snapshot_response_bytes: int = _in("count", "bytes out per snapshot read, brotli body + headers (bench)", 5000)
    api_response_bytes: int = _in("count", "bytes out per /api/* read, body + headers (bench)", 5000)
    s3_puts_per_publish: int = _in("count", "S3 PUTs of a publish after one write (bench)", 5)
    s3_gets_per_publish: int = _in("count", "S3 GET/HEADs of a publish after one write (bench)", 2)
    s3_puts_per_reconcile: int = _in("count", "S3 PUTs and LISTs of a reconcile without drift (bench)", 1)
    s3_gets_per_reconcile: int = _in("count", "S3 GET/HEADs of a reconcile without drift (bench)", 2)
    custom_metrics: int = _in("count", "custom metrics billed in a normal month (bench: EMF emitted)", 5)
    alarms: int = _in("count", "alarm metrics of the cause alarms (infra/: one per metric alarm)", 8)
    dashboards: int = _in("count", "CloudWatch dashboards (infra/)", 1)
    waf_rules: int = _in("count", "WAF rules, a managed group counting as one (infra/waf.tf)", 5)
    kms_keys: int = _in("count", "customer managed keys (infra/kms.tf; 2 outside us-east-1)", 1)
    slo_alarm_metrics: int = _in("count", "metrics the burn-rate window alarms read (infra/slo.json x slo.tf)", 20)
    composite_alarms: int = _in("count", "composite alarms, one per SLO and tier (infra/slo.json x slo.tf)", 6)
    canary_runs_per_month: Decimal = _in("requests", "canary runs (infra/: its schedule, a 730-hour month)",
                                         Decimal(43_800))
    canary_memory_mb: int = _in("memory", "canary memory (infra/canary.tf)", 128)
    canary_duration_ms: Decimal = _in("ms", "canary billed duration per run: about CloudFront's s-maxage plus a "
                                            "publish (estimate)", Decimal(12_000))
    canary_edge_requests: int = _in("count", "most CloudFront requests per canary run: 4 checks + its polls "
                                             "(infra/slo.json edge_requests_per_run)", 11)
    canary_log_bytes: int = _in("count", "canary log bytes per run: its EMF line (bench) + one log line "
                                         "(estimate)", 650)
    canary_custom_metrics: int = _in("count", "custom metrics a passing canary sends (bench)", 2)
    heartbeat_publish_ms: Decimal = _in("ms", "publisher billed duration of a heartbeat alone (estimate: a "
                                              "state read and one small PUT)", Decimal(200))
    heartbeat_s3_puts: int = _in("count", "S3 PUTs of the publish a heartbeat causes (bench)", 1)
    heartbeat_s3_gets: int = _in("count", "S3 GET/HEADs of the publish a heartbeat causes (bench)", 3)
    snapshot_model_bytes: int = _in("count", "bytes per model in llms.json, so in a dated snapshot "
                                             "(publisher/ops/data/sample_models.json: 4,460 B / 29)", 154)
    snapshot_days_kept: int = _in("count", "dated snapshots held, one a day; never deleted, so this is the "
                                           "month the bill is for (estimate: a year in)", 365)
    snapshot_transition_days: int = _in("count", "days before a dated snapshot moves to STANDARD_IA "
                                                 "(infra/variables.tf default)", 30)
    history_days_kept: int = _in("count", "days of the log of versions and its checkpoints held: a year in, "
                                          "under infra/variables.tf history_retention_days (400)", 365)
    log_version_bytes: int = _in("count", "bytes of one version's log, 1 to 5 changes (benchmarks/results/"
                                          "as_of.json log_bytes / versions)", 1_374)
    free_tier: bool = _in("bool", "apply the always-free allowances to each design", False)
    sources: tuple[str, ...] = ()

    @property
    def table_bytes(self) -> int:
        return self.table_items * self.item_bytes


FLAGS = tuple(f for f in dataclasses.fields(Inputs) if f.metadata.get("kind"))


def _hcl(name: str) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    return hcl2.loads((INFRA / name).read_text(), serialization_options=options)


def infra_inputs() -> dict[str, Any]:
    """Memory sizes, tracing, alarms, dashboards, WAF rules and keys as infra/ deploys them by default."""
    variables = {k: v.get("default") for block in _hcl("variables.tf")["variable"] for k, v in block.items()}
    resources: dict[str, dict[str, Any]] = {}
    functions: dict[str, dict[str, Any]] = {}  # instances of infra/modules/function
    for path in sorted(INFRA.glob("*.tf")):
        parsed = _hcl(path.name)
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                resources.setdefault(kind, {}).update(named)
        for block in parsed.get("module", []):
            functions.update({name: body for name, body in block.items() if body.get("source") == "./modules/function"})
    acl = next(iter(resources["aws_wafv2_web_acl"].values()))
    rules = acl["rule"] if isinstance(acl["rule"], list) else [acl["rule"]]
    # The cause alarms; the burn-rate windows (for_each over slo.json) are counted from their spec.
    alarms = [a for a in resources["aws_cloudwatch_metric_alarm"].values() if "for_each" not in a]
    alarm_metrics = sum(len(a["metric_query"]) if isinstance(a.get("metric_query"), list) else 1 for a in alarms)
    slo = json.loads((INFRA / "slo.json").read_text())
    sources = next(block["slo_sources"] for block in _hcl("slo.tf")["locals"] if "slo_sources" in block)
    windows = 2 * len(slo["tiers"])
    canary = functions["canary"]
    return {
        "read_memory_mb": int(variables["read_memory_mb"]),
        "publisher_memory_mb": int(variables["publisher_memory_mb"]),
        "read_traced": variables["read_tracing_mode"] == "Active",
        "alarms": alarm_metrics,
        "dashboards": len(resources["aws_cloudwatch_dashboard"]),
        "waf_rules": len(rules),
        "kms_keys": 1 if variables["region"] == "us-east-1" else 2,
        "slo_alarm_metrics": sum(windows * len(source["metrics"]) for source in sources.values()),
        "composite_alarms": len(sources) * len(slo["tiers"]),
        "canary_memory_mb": int(canary["memory_mb"]),
        "canary_edge_requests": int(slo["canary"]["edge_requests_per_run"]),
        "snapshot_transition_days": int(variables["snapshot_transition_days"]),
        "canary_runs_per_month": (runs_per_month(variables["canary_schedule_expression"])
                                  if variables["enable_canary_schedule"] else Decimal(0)),
    }


def runs_per_month(expression: str) -> Decimal:
    """Runs a `rate(N unit)` schedule makes in a 730-hour month."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if not match:
        raise ValueError(f"cannot count the runs of schedule {expression!r}")
    minutes = {"minute": 1, "hour": 60, "day": 1440}[match[2].rstrip("s")] * int(match[1])
    return Decimal(730 * 60) / minutes


def measured_inputs(cost_json: Path = COST_INPUTS_JSON) -> dict[str, Any]:
    raw = json.loads(cost_json.read_text())
    edge = raw["edge_bytes_brotli"]
    stream, reconcile = raw["s3_requests_per_stream_publish"], raw["s3_requests_per_reconcile"]
    return {
        "snapshot_response_bytes": edge["snapshot"]["body"] + edge["snapshot"]["headers"],
        "api_response_bytes": edge["api_list"]["body"] + edge["api_list"]["headers"],
        # S3 bills a LIST at the PUT price (the rebuild lists providers/ to sweep what no model names).
        "s3_puts_per_publish": stream.get("PutObject", 0) + stream.get("ListObjectsV2", 0),
        "s3_gets_per_publish": stream.get("GetObject", 0) + stream.get("HeadObject", 0),
        "s3_puts_per_reconcile": reconcile.get("PutObject", 0) + reconcile.get("ListObjectsV2", 0),
        "s3_gets_per_reconcile": reconcile.get("GetObject", 0) + reconcile.get("HeadObject", 0),
        "custom_metrics": len(raw["custom_metrics_normal_month"]),
        "read_log_bytes": int(raw["read_log_bytes_per_request"]),
        **_canary_measured(raw),
    }


def _canary_measured(raw: dict[str, Any]) -> dict[str, Any]:
    if "s3_requests_per_heartbeat" not in raw:
        return {}
    beat = raw["s3_requests_per_heartbeat"]
    return {"heartbeat_s3_puts": beat.get("PutObject", 0),
            "heartbeat_s3_gets": beat.get("GetObject", 0) + beat.get("HeadObject", 0),
            "canary_custom_metrics": len(raw["canary_custom_metrics_normal_month"]),
            # The EMF line (measured) and one log line of about 350 bytes (estimate).
            "canary_log_bytes": int(raw["canary_emf_bytes_per_run"]) + 350}


BENCH_KEYS = {"poc_handler_ms": "poc_duration_ms", "read_handler_ms": "read_duration_ms",
              "publisher_handler_ms": "publisher_duration_ms"}


def read_bench(path: Path) -> dict[str, Decimal]:
    """Durations from a bench file: a number, or an object with mean / p50 / median (billing follows the mean)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    found: dict[str, Decimal] = {}
    for key, name in BENCH_KEYS.items():
        if key not in raw:
            continue
        value = raw[key]
        if isinstance(value, dict):
            value = next((value[k] for k in ("mean", "p50", "median") if k in value), None)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or not math.isfinite(value):
            raise ValueError(f"{key} must be a non-negative number of ms (or an object with mean/p50)")
        found[name] = Decimal(str(value))
    return found


def default_inputs(bench_json: Path | None = BENCH_JSON, cost_json: Path | None = COST_INPUTS_JSON) -> Inputs:
    """Inputs as this repository states them: infra/ defaults, then measurements where they exist."""
    values: dict[str, Any] = {}
    sources = []
    values.update(infra_inputs())
    sources.append("memory, tracing, alarms, dashboards, WAF rules, keys, canary schedule: infra/*.tf defaults "
                   "and infra/slo.json")
    if cost_json is not None and cost_json.is_file():
        values.update(measured_inputs(cost_json))
        sources.append(f"bytes per response, S3 requests per publish and per heartbeat, metrics, read log bytes: "
                       f"{_shown(cost_json)}")
    if bench_json is not None and bench_json.is_file():
        values.update(read_bench(bench_json))
        sources.append(f"durations: {_shown(bench_json)}")
    return dataclasses.replace(Inputs(), **values, sources=tuple(sources))


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)
