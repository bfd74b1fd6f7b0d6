"""What every JSON answer at the edge shares: the error envelope and the weak ETag comparison."""

from __future__ import annotations

from typing import Any


def error_document(code: str, message: str, parameter: str | None = None,
                   candidates: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The one error envelope (schema `Error`): the read API's answers and the edge's own."""
    document: dict[str, Any] = {"error": {"code": code, "parameter": parameter, "message": message}}
    if candidates is not None:
        document["candidates"] = candidates
    return document


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored."""
    if not header or not etag:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == bare for candidate in header.split(","))
