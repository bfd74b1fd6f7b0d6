"""The CDN stand-in's cache of S3 objects: each kept for a TTL, then revalidated with If-None-Match;
an expired copy is still served while the origin fails, as CloudFront's stale-if-error does."""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from publisher.core.aws import S3_ABSENT, S3_NOT_MODIFIED, error_code
from publisher.core.documents import VERSION_META

# CloudFront's origin response timeout (30 s in AWS), shortened here as the TTL is (0.5 s for an
# s-maxage of 10 s): a request waits this long for a revalidation in flight, then it is an origin
# error (and a stale copy may answer it).
ORIGIN_TIMEOUT_SECONDS = 1.5
_STALE_IF_ERROR = re.compile(r"stale-if-error=(\d+)")


class OriginError(RuntimeError):
    """S3 answered with a server error or could not be reached (or not within the origin timeout);
    `stale` is the expired copy that stale-if-error still allows to be served, if any."""

    def __init__(self, message: str, stale: Cached | None = None) -> None:
        super().__init__(message)
        self.stale = stale


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

    def __init__(self, s3: Any, bucket: str, max_ttl: float, workers: int,
                 origin_timeout: float = ORIGIN_TIMEOUT_SECONDS) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.max_ttl = max_ttl
        self.origin_timeout = origin_timeout
        self._cache: dict[str, Cached | Missing] = {}
        # Per key: the revalidation in flight and when it began.
        self._inflight: dict[str, tuple[asyncio.Future[Cached | None], float]] = {}
        # S3 waits on I/O: a pool of threads, apart from the read handler's.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edge-s3")

    async def fetch(self, key: str) -> Cached | None:
        """The object under `key`, or None when S3 holds none; OriginError when S3 fails or does not
        answer within the origin timeout (carrying the copy stale-if-error allows, if any)."""
        entry = self._cache.get(key)
        now = time.monotonic()
        if entry is not None and now - entry.fetched < self.max_ttl:
            return entry if isinstance(entry, Cached) else None
        inflight = self._inflight.get(key)
        if inflight is None:
            inflight = (asyncio.ensure_future(self._revalidate(key, entry)), now)
            self._inflight[key] = inflight
            inflight[0].add_done_callback(lambda done: self._settled(key, done))
        future, began = inflight
        stale = self.stale_if_error(entry, now)
        if stale is None:
            return await asyncio.shield(future)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(0.0, began + self.origin_timeout - now))
        except (OriginError, TimeoutError) as exc:
            reason = str(exc) if isinstance(exc, OriginError) else f"s3 {key}: no answer within the origin timeout"
            raise OriginError(reason, stale) from exc

    def _settled(self, key: str, future: asyncio.Future[Cached | None]) -> None:
        self._inflight.pop(key, None)
        if not future.cancelled():
            future.exception()  # retrieved: every waiter may have stopped waiting for it

    def stale_if_error(self, entry: Cached | Missing | None, now: float) -> Cached | None:
        """The expired copy CloudFront would still serve if the origin failed now: within the
        stale-if-error seconds of its Cache-Control past its expiry, or at any age if immutable."""
        if not isinstance(entry, Cached):
            return None
        if "immutable" in entry.cache_control:
            return entry
        match = _STALE_IF_ERROR.search(entry.cache_control)
        if match is None or now - (entry.fetched + self.max_ttl) > int(match.group(1)):
            return None
        return entry

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
