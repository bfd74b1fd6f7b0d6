"""The edge contract, read from edge_contract.json: the read API's routes and where the CDN sends them, and
the response headers every public answer carries (CORS, CSP, security)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

CONTRACT_FILE = Path(__file__).resolve().parent / "edge_contract.json"


@lru_cache(maxsize=1)
def contract() -> dict[str, Any]:
    """The contract as written; infra/cdn.tf reads the same file with jsondecode()."""
    return dict(json.loads(CONTRACT_FILE.read_text(encoding="utf-8")))


def methods() -> tuple[str, ...]:
    """The methods every public path answers (the read API's routes and the CDN behaviours)."""
    return tuple(contract()["methods"])


# A route's origin at the CDN: the read function only, or S3 first and the read function when S3
# cannot serve the object (the origin group's failover).
FUNCTION = "function"
FAILOVER = "failover"


@dataclass(frozen=True)
class Route:
    path: str  # a template: `{name}` is one path segment
    operation: str  # the OpenAPI operationId and the read API's handler for it
    origin: str  # FUNCTION or FAILOVER

    @property
    def pattern(self) -> str:
        """The CloudFront path pattern that covers it: `/<first segment>/*` below a first segment, else
        the path itself (the same derivation as infra/cdn.tf's `route_patterns`)."""
        segments = self.path.split("/")
        return f"/{segments[1]}/*" if len(segments) > 2 else self.path


@lru_cache(maxsize=1)
def routes() -> tuple[Route, ...]:
    """Every route of the read API, in the order they are matched and documented."""
    found = tuple(Route(r["path"], r["operation"], r["origin"]) for r in contract()["routes"])
    unknown = [r.path for r in found if r.origin not in (FUNCTION, FAILOVER)]
    if unknown:
        raise ValueError(f"{CONTRACT_FILE.name}: routes with an unknown origin: {', '.join(unknown)}")
    return found


@lru_cache(maxsize=2)
def path_patterns(origin: str) -> tuple[str, ...]:
    """The CDN's behaviours for one origin, first occurrence first (CloudFront matches them in order)."""
    return tuple(dict.fromkeys(r.pattern for r in routes() if r.origin == origin))


def pattern_matches(pattern: str, path: str) -> bool:
    """CloudFront's match for the patterns above: a trailing `*` matches any rest, else the exact path."""
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


def origin_of(path: str) -> str | None:
    """Which origin the CDN sends a viewer path to: FUNCTION, FAILOVER, or None (S3 alone)."""
    for origin in (FUNCTION, FAILOVER):
        if any(pattern_matches(p, path) for p in path_patterns(origin)):
            return origin
    return None


def content_security_policy() -> str:
    return "; ".join(contract()["security"]["content_security_policy"])


def meta_content_security_policy() -> str:
    """The same policy for a <meta http-equiv> tag: browsers ignore (and warn about) header-only directives."""
    security = contract()["security"]
    header_only = set(security["csp_header_only_directives"])
    return "; ".join(d for d in security["content_security_policy"] if d.split()[0] not in header_only)


@lru_cache(maxsize=1)
def cors_headers() -> dict[str, str]:
    """On every answer: the data is public and no request carries credentials, so any origin may read it."""
    cors = contract()["cors"]
    headers = {
        "Access-Control-Allow-Origin": ", ".join(cors["allow_origins"]),
        "Access-Control-Expose-Headers": ", ".join(cors["expose_headers"]),
    }
    if cors["allow_credentials"]:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


@lru_cache(maxsize=1)
def preflight_headers() -> dict[str, str]:
    """The answer to a CORS preflight (OPTIONS): what a cross-origin GET may send, cacheable by the browser."""
    cors = contract()["cors"]
    return {
        **cors_headers(),
        "Access-Control-Allow-Methods": ", ".join(cors["allow_methods"]),
        "Access-Control-Allow-Headers": ", ".join(cors["allow_headers"]),
        "Access-Control-Max-Age": str(cors["max_age_seconds"]),
    }


@lru_cache(maxsize=1)
def security_headers() -> dict[str, str]:
    """What CloudFront's response headers policy adds to every answer (infra/cdn.tf)."""
    security = contract()["security"]
    hsts = security["strict_transport_security"]
    transport = f"max-age={hsts['max_age_seconds']}"
    if hsts["include_subdomains"]:
        transport += "; includeSubDomains"
    if hsts["preload"]:
        transport += "; preload"
    return {
        "Content-Security-Policy": content_security_policy(),
        "Strict-Transport-Security": transport,
        "X-Frame-Options": security["frame_options"],
        "Referrer-Policy": security["referrer_policy"],
        "X-Content-Type-Options": security["content_type_options"],
        "X-XSS-Protection": security["xss_protection"],
    }


@lru_cache(maxsize=1)
def edge_headers() -> dict[str, str]:
    """Every answer at the edge: CORS and the security headers, overriding what an origin sent."""
    return {**cors_headers(), **security_headers()}
