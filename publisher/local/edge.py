"""The CDN stand-in: serves the site bucket like the CloudFront distribution in infra/ does."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from publisher.config import PRIVATE_PREFIX

log = logging.getLogger(__name__)
ReadHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class Cached:
    fetched: float
    etag: str
    body: bytes
    content_type: str
    cache_control: str


def object_key(path: str) -> str | None:
    """URL path to bucket key; None for paths the distribution would never send to S3."""
    if path in ("", "/"):
        return "index.html"
    key = path.lstrip("/")
    if ".." in key.split("/") or key.startswith(PRIVATE_PREFIX) or "//" in key:
        return None
    return key


class Edge:
    """An aiohttp server on its own thread and event loop.

    Objects are cached for `max_ttl` seconds and then revalidated against S3 with If-None-Match,
    as CloudFront does when the origin's s-maxage runs out (here shortened so local writes show in
    about a second).
    """

    def __init__(self, s3: Any, bucket: str, read_handler: ReadHandler | None = None,
                 max_ttl: float = 1.0) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.read_handler = read_handler
        self.max_ttl = max_ttl
        self._cache: dict[str, Cached] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.host = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self.handle)
        app.router.add_route("HEAD", "/{tail:.*}", self.handle)
        return app

    async def _fetch(self, key: str) -> Cached | None:
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached and now - cached.fetched < self.max_ttl:
            return cached
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, self._get_from_s3, key, cached.etag if cached else None)
        if result is None:
            self._cache.pop(key, None)
            return None
        if result == "not-modified" and cached:
            cached.fetched = now
            return cached
        assert isinstance(result, Cached)
        self._cache[key] = result
        return result

    def _get_from_s3(self, key: str, etag: str | None) -> Cached | str | None:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if etag:
            kwargs["IfNoneMatch"] = etag
        try:
            response = self.s3.get_object(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("304", "NotModified"):
                return "not-modified"
            if code in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
                return None
            raise
        return Cached(
            fetched=time.monotonic(),
            etag=response["ETag"],
            body=response["Body"].read(),
            content_type=response.get("ContentType", "application/octet-stream"),
            cache_control=response.get("CacheControl", ""),
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        key = object_key(request.path)
        if key is None:
            return web.json_response({"error": "not found"}, status=404)
        try:
            cached = await self._fetch(key)
        except Exception:
            log.exception("origin error for %s", key)
            return web.json_response({"error": "origin unavailable"}, status=502)
        if cached is None:
            return web.json_response({"error": "not found", "path": request.path}, status=404)
        headers = {"ETag": cached.etag, "Cache-Control": cached.cache_control,
                   "Content-Type": cached.content_type}
        if request.headers.get("If-None-Match") == cached.etag:
            return web.Response(status=304, headers={"ETag": cached.etag, "Cache-Control": cached.cache_control})
        body = b"" if request.method == "HEAD" else cached.body
        return web.Response(body=body, headers=headers)

    def start(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.host = host
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                runner = web.AppRunner(self.app(), access_log=None)
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True)
                loop.run_until_complete(site.start())
                self._runner = runner
                self.port = runner.addresses[0][1]
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="edge", daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise RuntimeError(f"the edge could not listen on {host}:{port}: {errors[0]}")

    def stop(self) -> None:
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
