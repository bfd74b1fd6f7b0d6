"""Canary Lambda: run one probe on a schedule and publish the freshness SLI as EMF metrics."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from typing import Any

from publisher.canary.probe import SNAPSHOT_PATH, Fetch, Probe, ProbeResult, ProbeSettings
from publisher.core import aws
from publisher.core.config import DEFAULT_TABLE_NAME, ENV_TABLE_NAME, METRICS_NAMESPACE, ConfigError

log = logging.getLogger("publisher.canary")
SERVICE = "canary"
ENV_BASE_URL = "CANARY_BASE_URL"
ENV_TIMEOUT = "CANARY_TIMEOUT_SECONDS"
USER_AGENT = "llm-catalogue-canary/1"
HTTP_TIMEOUT_SECONDS = 10
# What a browser sends (Chrome, Firefox): CloudFront keys its cache on the normalized header, so the
# canary reads the same cached copy browsers read. Without a brotli decoder (the Lambda runtime has
# none) the snapshot, the one document large enough to be compressed, is read as curl --compressed
# and HTTP libraries ask for it: the gzip copy.
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
GZIP_ACCEPT_ENCODING = "gzip, deflate"
# The metrics the burn-rate alarms read (infra/slo.json carries these names to Terraform).
METRIC_PROBES = "CanaryProbes"
METRIC_BREACHES = "CanaryFreshnessBreaches"
METRIC_FRESHNESS = "FreshnessSeconds"
METRIC_CHECK_FAILURES = "CanaryCheckFailures"


@dataclass(frozen=True)
class CanaryConfig:
    base_url: str
    table_name: str
    timeout: float

    @classmethod
    def from_env(cls) -> CanaryConfig:
        base = os.environ.get(ENV_BASE_URL, "").rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise ConfigError(f"{ENV_BASE_URL} must be the site's URL (https://...), got {base!r}")
        raw = os.environ.get(ENV_TIMEOUT) or str(ProbeSettings().timeout)
        try:
            timeout = float(raw)
        except ValueError as exc:
            raise ConfigError(f"{ENV_TIMEOUT} must be a number of seconds, got {raw!r}") from exc
        return cls(base, os.environ.get(ENV_TABLE_NAME) or DEFAULT_TABLE_NAME, timeout)


def _brotli() -> Any:
    try:
        import brotli  # the local stack has it; the canary's zip does not
    except ImportError:
        return None
    return brotli


def decode(body: bytes, encoding: str | None) -> bytes:
    """The body as sent before Content-Encoding; ValueError for a coding it cannot undo."""
    coding = (encoding or "identity").strip().lower()
    try:
        if coding == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            return zlib.decompress(body)
    except zlib.error as exc:
        raise ValueError(f"undecodable {coding} body: {exc}") from exc
    if coding == "br" and _brotli() is not None:
        return _brotli().decompress(body)
    if coding != "identity":
        raise ValueError(f"cannot decode Content-Encoding {coding}")
    return body


def accept_encoding(path: str) -> str:
    return BROWSER_ACCEPT_ENCODING if path != SNAPSHOT_PATH or _brotli() is not None else GZIP_ACCEPT_ENCODING


def url_fetch(base_url: str, timeout: float = HTTP_TIMEOUT_SECONDS) -> Fetch:
    """GET `base_url + path` as a reader would (no cache-busting, a browser's Accept-Encoding):
    (status, decoded body, headers with lower-case names); OSError if unreachable or undecodable."""

    def fetch(path: str) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(base_url + path, headers={  # noqa: S310 - our own site
            "User-Agent": USER_AGENT, "Accept-Encoding": accept_encoding(path)})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own site
                status, body, raw = response.status, response.read(), response.headers.items()
        except urllib.error.HTTPError as exc:
            status, body, raw = exc.code, exc.read(), exc.headers.items()
        headers = {name.lower(): value for name, value in raw}
        try:
            return status, decode(body, headers.get("content-encoding")), headers
        except ValueError as exc:
            raise OSError(f"{path}: {exc}") from exc

    return fetch


def metrics_document(result: ProbeResult, timeout: float) -> dict[str, Any]:
    """One CloudWatch Embedded Metric Format record: the SLI's event and the other checks.

    A custom metric bills in every hour it has a data point, so the bad-event counts are sent only
    when non-zero (the burn-rate alarms read a missing breach count as 0); probes and freshness
    are sent every run, the first so that a silent canary is itself an alarm."""
    freshness_failed = any(c.name == "freshness" for c in result.failures)
    values = {
        METRIC_PROBES: (1, "Count"),
        # A heartbeat never seen counts as the whole wait: the graph shows the stall, not a gap.
        METRIC_FRESHNESS: (round(result.freshness if result.freshness is not None else timeout, 3), "Seconds"),
        METRIC_BREACHES: (0 if result.freshness_good else 1, "Count"),
        METRIC_CHECK_FAILURES: (len(result.failures) - (1 if freshness_failed else 0), "Count"),
    }
    sent = {name: value for name, value in values.items()
            if value[0] or name in (METRIC_PROBES, METRIC_FRESHNESS)}
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["service"]],
                "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in sent.items()],
            }],
        },
        "service": SERVICE,
        **{name: value for name, (value, _) in sent.items()},
        "run_id": result.run_id,
    }


def handler(event: Any, context: Any) -> dict[str, Any]:
    cfg = CanaryConfig.from_env()
    dynamodb = aws.client("dynamodb")

    def put_heartbeat(item: dict[str, Any]) -> None:
        dynamodb.put_item(TableName=cfg.table_name, Item=item)

    settings = ProbeSettings(timeout=cfg.timeout)
    # No file to keep the last version in: the previous heartbeat, read back from health.json, carries it.
    result = Probe(settings, url_fetch(cfg.base_url), put_heartbeat).run()
    sys.stdout.write(json.dumps(metrics_document(result, settings.timeout), separators=(",", ":")) + "\n")
    summary = result.to_dict()
    if result.ok:
        log.info("canary ok", extra={"freshness_seconds": summary["freshness_seconds"], "version": result.version})
    else:
        log.error("canary failed", extra={"failures": [f"{c.name}: {c.detail}" for c in result.failures],
                                          "freshness_seconds": summary["freshness_seconds"]})
    return summary
