"""The response headers every public answer carries (CORS, CSP, security), read from edge_contract.json."""

from __future__ import annotations

import json
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
