"""Configuration read once from the environment, with the names as constants tests and infra share."""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_TABLE_NAME = "TABLE_NAME"
ENV_SITE_BUCKET = "SITE_BUCKET"
ENV_PUBLIC_BASE_URL = "PUBLIC_BASE_URL"
ENV_CHANGES_LIMIT = "CHANGES_LIMIT"
ENV_HISTORY_LIMIT = "HISTORY_LIMIT"
ENV_REVALIDATE_SECONDS = "SNAPSHOT_REVALIDATE_SECONDS"
ENV_HISTORY_RETENTION_DAYS = "HISTORY_RETENTION_DAYS"
# How long the log of versions and its checkpoints are kept (infra/data.tf expires them after this;
# the read API answers as-of reads and /api/changes within it): a year back, and a month to spare.
DEFAULT_HISTORY_RETENTION_DAYS = 400

DEFAULT_TABLE_NAME = "llm_scores"
TABLE_HASH_KEY = "model_name"
METRICS_NAMESPACE = "LlmCatalogue"

# Freshness contract at the CDN. An edge may serve a snapshot for S_MAXAGE seconds before it
# revalidates; stale-while-revalidate lets the first request after that be answered from cache
# while the edge refetches, so the worst case an idle edge shows is S_MAXAGE + SWR seconds.
# stale-if-error keeps the catalogue readable for a day if S3 and the API both fail.
BROWSER_MAX_AGE = 5
S_MAXAGE = 10
STALE_WHILE_REVALIDATE = 20
STALE_IF_ERROR = 86400
JSON_CACHE_CONTROL = (
    f"public, max-age={BROWSER_MAX_AGE}, s-maxage={S_MAXAGE}, "
    f"stale-while-revalidate={STALE_WHILE_REVALIDATE}, stale-if-error={STALE_IF_ERROR}"
)
HTML_CACHE_CONTROL = JSON_CACHE_CONTROL
# Read API answers: the CDN keeps them as long as the snapshot (s-maxage), but a browser revalidates
# every time (max-age=0, a 304 from the edge), so a page never pairs a fresh llms.json with an API
# answer from its own cache that is older.
API_CACHE_CONTROL = (
    f"public, max-age=0, s-maxage={S_MAXAGE}, "
    f"stale-while-revalidate={STALE_WHILE_REVALIDATE}, stale-if-error={STALE_IF_ERROR}"
)
# An as-of answer of a version a later version followed: the instant can never read anything else
# (commit times never change), so browsers keep it a day and the CDN a year (SOLUTION.md, section 13).
AS_OF_SETTLED_CACHE_CONTROL = "public, max-age=86400, s-maxage=31536000, immutable"
# A CORS preflight's answer depends on nothing but the contract: browsers and the CDN may keep it.
PREFLIGHT_CACHE_CONTROL = "public, max-age=86400"
# Static assets are named by the hash of their bytes, so they never change under a name.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
# The publisher's private state: never served (the bucket policy denies CloudFront this prefix).
STATE_KEY = "internal/state.json"
PRIVATE_PREFIX = "internal/"


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def _int_env(name: str, default: int, lo: int, hi: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _float_env(name: str, default: float, lo: float, hi: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo:g} and {hi:g}, got {raw}")
    return value


@dataclass(frozen=True)
class Config:
    table_name: str
    site_bucket: str
    public_base_url: str = ""
    changes_limit: int = 200
    history_limit: int = 500
    revalidate_seconds: float = 1.0
    history_retention_days: int = DEFAULT_HISTORY_RETENTION_DAYS

    @classmethod
    def from_env(cls) -> Config:
        bucket = os.environ.get(ENV_SITE_BUCKET, "")
        if not bucket:
            raise ConfigError(f"{ENV_SITE_BUCKET} is not set: the name of the site bucket")
        return cls(
            table_name=os.environ.get(ENV_TABLE_NAME) or DEFAULT_TABLE_NAME,
            site_bucket=bucket,
            public_base_url=os.environ.get(ENV_PUBLIC_BASE_URL, "").rstrip("/"),
            changes_limit=_int_env(ENV_CHANGES_LIMIT, 200, 1, 10000),
            history_limit=_int_env(ENV_HISTORY_LIMIT, 500, 1, 100000),
            revalidate_seconds=_float_env(ENV_REVALIDATE_SECONDS, 1.0, 0.0, 3600.0),
            history_retention_days=_int_env(ENV_HISTORY_RETENTION_DAYS, DEFAULT_HISTORY_RETENTION_DAYS, 1, 36500),
        )
