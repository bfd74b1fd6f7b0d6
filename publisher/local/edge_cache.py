"""The CDN stand-in's cache of S3 objects: each kept for a TTL, then revalidated with If-None-Match."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from publisher.core.aws import S3_ABSENT, S3_NOT_MODIFIED, error_code
from publisher.core.documents import VERSION_META


class OriginError(RuntimeError):
    """S3 answered with a server error or could not be reached."""


@dataclass
class Cached:
    fetched: float
    etag: str
    body: bytes
    content_type: str
    cache_control: str
    encoded: dict[str, bytes] = field(default_factory=dict)
    version: str | None = None


@dataclass
class Missing:
    fetched: float


class ObjectCache:
    """Objects are cached for `max_ttl` seconds and then revalidated against S3 with If-None-Match,
    as CloudFront does when the origin's s-maxage runs out (here shortened so local writes show in
    about a second). One revalidation per object runs at a time; concurrent requests wait for it,
    so a cached object costs no S3 call however many clients ask. Runs on the edge's event loop."""

    def __init__(self, s3: Any, bucket: str, max_ttl: float, workers: int) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.max_ttl = max_ttl
        self._cache: dict[str, Cached | Missing] = {}
        self._inflight: dict[str, asyncio.Future[Cached | None]] = {}
        # S3 waits on I/O: a pool of threads, apart from the read handler's.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edge-s3")

    async def fetch(self, key: str) -> Cached | None:
        """The object under `key`, or None when S3 holds none; OriginError when S3 fails."""
        entry = self._cache.get(key)
        if entry is not None and time.monotonic() - entry.fetched < self.max_ttl:
            return entry if isinstance(entry, Cached) else None
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(self._revalidate(key, entry))
            self._inflight[key] = future
            future.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(future)

    async def _revalidate(self, key: str, entry: Cached | Missing | None) -> Cached | None:
        loop = asyncio.get_running_loop()
        etag = entry.etag if isinstance(entry, Cached) else None
        result = await loop.run_in_executor(self._pool, self._get_from_s3, key, etag)
        now = time.monotonic()
        if result == "not-modified" and isinstance(entry, Cached):
            entry.fetched = now
            return entry
        if not isinstance(result, Cached):
            # A missing object is cached too (CloudFront caches error answers), for max_ttl.
            self._cache[key] = Missing(now)
            return None
        self._cache[key] = result
        return result

    def _get_from_s3(self, key: str, etag: str | None) -> Cached | str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if etag:
            kwargs["IfNoneMatch"] = etag
        try:
            response = self.s3.get_object(**kwargs)
            body = response["Body"].read()
        except ClientError as exc:
            code = error_code(exc)
            if code in S3_NOT_MODIFIED:
                return "not-modified"
            if code in S3_ABSENT:
                return None
            raise OriginError(f"s3 {key}: {code}") from exc
        except BotoCoreError as exc:
            raise OriginError(f"s3 {key}: {type(exc).__name__}") from exc
        return Cached(
            fetched=time.monotonic(),
            etag=response["ETag"],
            body=body,
            content_type=response.get("ContentType", "application/octet-stream"),
            cache_control=response.get("CacheControl", ""),
            version=response.get("Metadata", {}).get(VERSION_META),
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
