"""The CDN stand-in: the site bucket and the read API served as the CloudFront distribution in infra/
does. Routing is here (which origin answers a path, from the edge contract's routes); the object
cache and compression are their own modules."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from publisher.core import edge_contract
from publisher.core.answers import error_document, etag_matches
from publisher.core.config import PREFLIGHT_CACHE_CONTROL, PRIVATE_PREFIX
from publisher.core.documents import VERSION_META
from publisher.local.edge_cache import Cached, ObjectCache, OriginError
from publisher.local.edge_compression import choose_encoding, compress, compressible
from publisher.local.lambda_shapes import READ_FUNCTION, LambdaContext, decode_result, function_url_event

log = logging.getLogger(__name__)
ReadHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

# What CloudFront passes on from S3's answer: the object's snapshot version (user metadata).
VERSION_HEADER = f"x-amz-meta-{VERSION_META}"
NOT_FOUND = error_document("not_found", "not found")
# CloudFront's response headers policy (infra/cdn.tf): the same contract, overriding the origin's.
EDGE_HEADERS = edge_contract.edge_headers()


def read_context() -> LambdaContext:
    """The read function's context: its memory and timeout in infra/."""
    return LambdaContext(READ_FUNCTION, memory_limit_in_mb=256, timeout_ms=10_000)


def object_key(path: str) -> str | None:
    """URL path to bucket key; None for paths the distribution would never send to S3."""
    if path in ("", "/"):
        return "index.html"
    key = path.lstrip("/")
    if ".." in key.split("/") or key.startswith(PRIVATE_PREFIX) or "//" in key:
        return None
    return key


class Edge:
    """An aiohttp server on its own thread and event loop, in front of S3 (through an ObjectCache)
    and the read handler, routing each path to its origin as the distribution's behaviours do."""

    def __init__(self, s3: Any, bucket: str, read_handler: ReadHandler | None = None,
                 max_ttl: float = 1.0, api_workers: int = 4, s3_workers: int = 8) -> None:
        self.read_handler = read_handler
        self.objects = ObjectCache(s3, bucket, max_ttl, s3_workers)
        # The handler is CPU-bound under the GIL: a few threads are enough.
        self._api_pool = ThreadPoolExecutor(max_workers=api_workers, thread_name_prefix="edge-api")
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
        # [\s\S], not '.': a decoded path may hold a newline, and the API (not aiohttp) must answer it.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        origin = edge_contract.origin_of(path)
        if origin == edge_contract.FUNCTION:
            return await self._invoke(request)
        methods = edge_contract.methods()
        if request.method == "OPTIONS":
            # CloudFront passes the preflight to S3, whose CORS rule (infra/data.tf) answers it; the
            # response headers policy sets the same headers from the same contract.
            return web.Response(status=204, headers={**EDGE_HEADERS, **edge_contract.preflight_headers(),
                                                     "Allow": ", ".join(methods),
                                                     "Cache-Control": PREFLIGHT_CACHE_CONTROL})
        if request.method not in methods:
            return self._json(405, error_document("method_not_allowed", f"only {', '.join(methods)} are allowed"),
                              {"Allow": ", ".join(methods)})
        key = object_key(path)
        if key is None:
            return self._json(404, NOT_FOUND)
        try:
            cached = await self.objects.fetch(key)
        except OriginError as exc:
            log.warning("origin error for %s: %s", key, exc)
            if origin == edge_contract.FAILOVER:
                if exc.stale is None:
                    return await self._invoke(request, raw_query="")
                # The secondary origin gets the same origin timeout; past it, or on its 5xx, the copy.
                with contextlib.suppress(TimeoutError):
                    failover = await asyncio.wait_for(self._invoke(request, raw_query=""),
                                                      self.objects.origin_timeout)
                    if failover.status < 500:
                        return failover
            if exc.stale is not None:  # stale-if-error: the last copy, when both origins failed
                return self._from_cache(request, exc.stale)
            return self._json(502, error_document("origin_unavailable", "origin unavailable"))
        if cached is None:
            if origin == edge_contract.FAILOVER:
                # CloudFront forwards no query string on these behaviours (CachingOptimized policy).
                return await self._invoke(request, raw_query="")
            return self._json(404, NOT_FOUND)
        return self._from_cache(request, cached)

    def _from_cache(self, request: web.Request, cached: Cached) -> web.Response:
        headers = {**EDGE_HEADERS, "ETag": cached.etag, "Cache-Control": cached.cache_control}
        if cached.version is not None:
            headers[VERSION_HEADER] = cached.version
        # Every answer from the bucket says so, as CloudFront's response headers policy does for its
        # S3-first behaviours (infra/cdn.tf); the read function's answers carry their own value.
        headers["X-Snapshot-Source"] = "s3"
        body = cached.body
        if compressible(cached.content_type, len(body)):
            headers["Vary"] = "Accept-Encoding"
            coding = choose_encoding(request.headers.get("Accept-Encoding"))
            if coding:
                encoded = cached.encoded.get(coding)
                if encoded is None:
                    encoded = cached.encoded[coding] = compress(body, coding)
                body = encoded
                headers["Content-Encoding"] = coding
        if etag_matches(request.headers.get("If-None-Match"), cached.etag):
            headers.pop("Content-Encoding", None)
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = cached.content_type
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return web.Response(status=200, headers=headers)
        return web.Response(body=body, headers=headers)

    async def _invoke(self, request: web.Request, raw_query: str | None = None) -> web.Response:
        if self.read_handler is None:
            return self._json(404, error_document("not_found", "no read API in this stack"))
        raw_path, _, query = request.raw_path.partition("?")
        viewer_encoding = request.headers.get("Accept-Encoding")
        event = function_url_event(request.method, raw_path, query if raw_query is None else raw_query,
                                   request.remote or "127.0.0.1", viewer_encoding)
        coding = choose_encoding(viewer_encoding)
        loop = asyncio.get_running_loop()
        try:
            status, out, body = await loop.run_in_executor(self._api_pool, self._call_handler, event, coding)
        except Exception:
            log.exception("read handler failed for %s", raw_path)
            return self._json(502, error_document("origin_error", "the read API failed"))
        # The response headers policy overrides the origin's CORS and security headers.
        out = {**out, **EDGE_HEADERS}
        # The viewer's conditional request never reaches the function: CloudFront compares it with
        # the ETag of the answer it holds and sends a 304 itself.
        etag = next((v for k, v in out.items() if k.lower() == "etag"), "")
        if status == 200 and etag_matches(request.headers.get("If-None-Match"), etag):
            for name in [k for k in out if k.lower() in ("content-type", "content-encoding", "content-length")]:
                del out[name]
            return web.Response(status=304, headers=out)
        if request.method == "HEAD":
            # The function's Content-Length is GET's (publisher/read/http.py); aiohttp would send 0.
            return web.Response(status=status, headers=out)
        return web.Response(status=status, body=body, headers=out)

    def _call_handler(self, event: dict[str, Any], coding: str | None) -> tuple[int, dict[str, str], bytes]:
        assert self.read_handler is not None
        status, headers, body = decode_result(self.read_handler(event, read_context()))
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if status != 304 and compressible(content_type, len(body)):
            headers["Vary"] = "Accept-Encoding"
            if coding:
                body = compress(body, coding)
                headers["Content-Encoding"] = coding
        return status, headers, body

    @staticmethod
    def _json(status: int, document: Any, extra: dict[str, str] | None = None) -> web.Response:
        headers = {**EDGE_HEADERS, "Cache-Control": "no-store", **(extra or {})}
        return web.Response(status=status, body=json.dumps(document).encode(),
                            content_type="application/json", headers=headers)

    @staticmethod
    def raise_open_files_limit() -> int:
        """Soft RLIMIT_NOFILE up to the hard limit: each of thousands of connections is a descriptor."""
        try:
            import resource

            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
            if soft < target:
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return int(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        except (ImportError, ValueError, OSError):
            log.warning("could not raise the open files limit", exc_info=True)
            return -1

    def start(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.host = host
        self.raise_open_files_limit()
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                runner = web.AppRunner(self.app(), access_log=None)
                loop.run_until_complete(runner.setup())
                # The kernel caps the backlog at net.core.somaxconn; 4096 lets a burst of 2,000 in.
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
        self._api_pool.shutdown(wait=False, cancel_futures=True)
        self.objects.close()
