"""The CDN stand-in's compression, as CloudFront's: br over gzip, for the types and sizes it compresses."""

from __future__ import annotations

import gzip

# CloudFront compresses 1,000 B .. 10 MB bodies of these types when the viewer asks for it.
COMPRESSIBLE_TYPES = ("text/", "application/json", "application/javascript", "application/xml",
                      "application/atom+xml", "application/manifest+json", "image/svg+xml")
MIN_COMPRESS_BYTES = 1000
MAX_COMPRESS_BYTES = 10_000_000
BROTLI_QUALITY = 5  # CloudFront-like speed/ratio; 11 would cost seconds on a 10k-model snapshot
GZIP_LEVEL = 6


def compressible(content_type: str, size: int) -> bool:
    return MIN_COMPRESS_BYTES <= size <= MAX_COMPRESS_BYTES and content_type.startswith(COMPRESSIBLE_TYPES)


def choose_encoding(accept_encoding: str | None) -> str | None:
    """br over gzip, as CloudFront does, among the codings the client accepts with q > 0."""
    if not accept_encoding:
        return None
    accepted: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        accepted[name.strip().lower()] = quality
    for coding in ("br", "gzip"):
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def compress(body: bytes, coding: str) -> bytes:
    if coding == "br":
        import brotli

        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def origin_accept_encoding(viewer: str | None) -> str | None:
    """CloudFront's normalised Accept-Encoding towards the origin (cache policy: brotli and gzip on)."""
    coding = choose_encoding(viewer)
    return None if coding is None else ("br,gzip" if coding == "br" else "gzip")
