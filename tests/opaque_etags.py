"""An S3 stand-in whose ETags are not MD5s of the bytes, as under SSE-KMS, for an S3 client on moto.

moto answers every object with the MD5 of its bytes as ETag, so code that compares ETags with MD5s
passes there and fails in AWS, where the site bucket is encrypted with a KMS key. This wraps a
botocore S3 client: every write gets a fresh random ETag (as KMS-encrypted objects do), reads
return it, and conditional requests (If-Match, If-None-Match) are translated back for moto. It also
records every write, so a test can show what a publish wrote.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

WRITES = frozenset({"PutObject", "DeleteObject", "DeleteObjects", "CopyObject", "CompleteMultipartUpload"})
_CONDITIONS = ("IfMatch", "IfNoneMatch")


def _bare(etag: str) -> str:
    return etag.strip('"')


class OpaqueETags:
    def __init__(self, client: Any) -> None:
        self._by_real: dict[tuple[str, str], str] = {}  # (key, moto's ETag) -> ours
        self._by_opaque: dict[str, str] = {}  # ours -> moto's
        self._lock = threading.Lock()
        self.writes: list[tuple[str, str]] = []  # (operation, key)
        self.calls: list[tuple[str, str]] = []  # every request: (operation, key)
        client.meta.events.register("before-parameter-build.s3", self._before)
        client.meta.events.register("after-call.s3", self._after)

    def _opaque(self, key: str, real: str, fresh: bool) -> str:
        with self._lock:
            known = self._by_real.get((key, real))
            if known is None or fresh:
                known = self._by_real[(key, real)] = uuid.uuid4().hex
                self._by_opaque[known] = real
            return known

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["opaque_key"] = params.get("Key", "")
        with self._lock:
            self.calls.append((model.name, params.get("Key", "")))
            if model.name in WRITES:
                self.writes.append((model.name, params.get("Key", "")))
        for name in _CONDITIONS:
            value = params.get(name)
            if isinstance(value, str) and value != "*":
                with self._lock:
                    real = self._by_opaque.get(_bare(value))
                params[name] = f'"{real}"' if real else value

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        etag = parsed.get("ETag")
        if isinstance(etag, str) and etag:
            opaque = self._opaque(context.get("opaque_key", ""), _bare(etag), fresh=model.name == "PutObject")
            parsed["ETag"] = f'"{opaque}"'

    def public_writes(self) -> list[tuple[str, str]]:
        """The writes to objects the CDN serves (anything outside internal/)."""
        return [(op, key) for op, key in self.writes if not key.startswith("internal/")]
