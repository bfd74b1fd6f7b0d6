"""The CDN stand-in: the site bucket and the read API served as the CloudFront distribution in infra/ does."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from publisher import edge_contract
from publisher.config import PREFLIGHT_CACHE_CONTROL, PRIVATE_PREFIX
from publisher.store import VERSION_META

log = logging.getLogger(__name__)
ReadHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

# The paths whose origin group fails over from S3 to the read API (infra/cdn.tf): the snapshot,
# and per-provider URLs S3 does not hold (older slug URLs, loose names).
FAILOVER_PATHS = frozenset({"/llms.json", "/llms"})
FAILOVER_PREFIXES = ("/providers/",)
# The read API's own behaviours: the API, and the histories it serves from their private shards.
API_PREFIXES = ("/api/", "/history/")
# What CloudFront passes on from S3's answer: the object's snapshot version (user metadata).
VERSION_HEADER = f"x-amz-meta-{VERSION_META}"
# What CloudFront sends the read function (infra/cdn.tf): the path and query string, its own
# headers and nothing of the viewer's (no origin request policy; the cache policy keys on query
# strings only). The function URL's host stands in for <url-id>.lambda-url.<region>.on.aws.
FUNCTION_URL_HOST = "local.lambda-url.us-east-1.on.aws"
CLOUDFRONT_USER_AGENT = "Amazon CloudFront"
# CloudFront compresses 1,000 B .. 10 MB bodies of these types when the viewer asks for it.
COMPRESSIBLE_TYPES = ("text/", "application/json", "application/javascript", "application/xml",
                      "application/atom+xml", "application/manifest+json", "image/svg+xml")
MIN_COMPRESS_BYTES = 1000
MAX_COMPRESS_BYTES = 10_000_000
BROTLI_QUALITY = 5  # CloudFront-like speed/ratio; 11 would cost seconds on a 10k-model snapshot
GZIP_LEVEL = 6
NOT_FOUND = {"error": {"code": "not_found", "parameter": None, "message": "not found"}}
# CloudFront's response headers policy (infra/cdn.tf): the same contract, overriding the origin's.
EDGE_HEADERS = edge_contract.edge_headers()


def fails_over(path: str) -> bool:
    return path in FAILOVER_PATHS or path.startswith(FAILOVER_PREFIXES)


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


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object a handler may read."""

    function_name: str = "llm-catalogue-read-api-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:llm-catalogue-read-api-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def object_key(path: str) -> str | None:
    """URL path to bucket key; None for paths the distribution would never send to S3."""
    if path in ("", "/"):
        return "index.html"
    key = path.lstrip("/")
    if ".." in key.split("/") or key.startswith(PRIVATE_PREFIX) or "//" in key:
        return None
    return key


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


def etag_matches(header: str | None, etag: str) -> bool:
    """Weak comparison, as If-None-Match requires."""
    if not header or not etag:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == bare for candidate in header.split(","))


def origin_accept_encoding(viewer: str | None) -> str | None:
    """CloudFront's normalised Accept-Encoding towards the origin (cache policy: brotli and gzip on)."""
    coding = choose_encoding(viewer)
    return None if coding is None else ("br,gzip" if coding == "br" else "gzip")


def function_url_event(method: str, raw_path: str, raw_query: str, viewer_ip: str,
                       accept_encoding: str | None = None) -> dict[str, Any]:
    """A Lambda function URL event (payload 2.0 shape) as the function receives it from CloudFront's OAC.

    Function URLs have no routes: routeKey is always "$default" and there are no pathParameters; the
    caller is the CloudFront service principal that signed the request (AWS_IAM auth).
    """
    joined: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        # Like API Gateway, function URLs join repeated keys with commas; rawQueryString keeps them apart.
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    now = datetime.now(UTC)
    request_id = uuid.uuid4().hex
    headers = {
        "host": FUNCTION_URL_HOST,
        "user-agent": CLOUDFRONT_USER_AGENT,
        "via": "2.0 local.cloudfront.net (CloudFront)",
        "x-amz-cf-id": request_id,
        "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{request_id[:24]}",
        "x-forwarded-for": viewer_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    normalised = origin_accept_encoding(accept_encoding)
    if normalised:
        headers["accept-encoding"] = normalised
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": FUNCTION_URL_HOST.split(".")[0],
            "authorizer": {"iam": {"accessKey": "ASIA0000000000000000", "accountId": "123456789012",
                                   "callerId": "AROA0000000000000000:cloudfront", "cognitoIdentity": None,
                                   "principalOrgId": None, "userArn": "cloudfront.amazonaws.com",
                                   "userId": "AROA0000000000000000:cloudfront"}},
            "domainName": FUNCTION_URL_HOST,
            "domainPrefix": FUNCTION_URL_HOST.split(".")[0],
            "http": {"method": method, "path": unquote(raw_path), "protocol": "HTTP/1.1",
                     "sourceIp": "130.176.0.1", "userAgent": CLOUDFRONT_USER_AGENT},
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if joined:
        event["queryStringParameters"] = joined
    return event


def decode_result(result: Any) -> tuple[int, dict[str, str], bytes]:
    """A payload 2.0 response back to status, headers and bytes (a bare value means 200 JSON)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    return int(result["statusCode"]), headers, raw


class Edge:
    """An aiohttp server on its own thread and event loop.

    Objects are cached for `max_ttl` seconds and then revalidated against S3 with If-None-Match,
    as CloudFront does when the origin's s-maxage runs out (here shortened so local writes show in
    about a second). One revalidation per object runs at a time; concurrent requests wait for it,
    so a cached object costs no S3 call however many clients ask.
    """

    def __init__(self, s3: Any, bucket: str, read_handler: ReadHandler | None = None,
                 max_ttl: float = 1.0, api_workers: int = 4, s3_workers: int = 8) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.read_handler = read_handler
        self.max_ttl = max_ttl
        self._cache: dict[str, Cached | Missing] = {}
        self._inflight: dict[str, asyncio.Future[Cached | None]] = {}
        # The handler is CPU-bound under the GIL: a few threads are enough; S3 waits on I/O.
        self._api_pool = ThreadPoolExecutor(max_workers=api_workers, thread_name_prefix="edge-api")
        self._s3_pool = ThreadPoolExecutor(max_workers=s3_workers, thread_name_prefix="edge-s3")
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

    async def _fetch(self, key: str) -> Cached | None:
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
        result = await loop.run_in_executor(self._s3_pool, self._get_from_s3, key, etag)
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
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("304", "NotModified"):
                return "not-modified"
            if code in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
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

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(API_PREFIXES):
            return await self._invoke(request)
        methods = edge_contract.methods()
        if request.method == "OPTIONS":
            # CloudFront passes the preflight to S3, whose CORS rule (infra/data.tf) answers it; the
            # response headers policy sets the same headers from the same contract.
            return web.Response(status=204, headers={**EDGE_HEADERS, **edge_contract.preflight_headers(),
                                                     "Allow": ", ".join(methods),
                                                     "Cache-Control": PREFLIGHT_CACHE_CONTROL})
        if request.method not in methods:
            return self._json(405, {"error": {"code": "method_not_allowed", "parameter": None,
                                              "message": f"only {', '.join(methods)} are allowed"}},
                              {"Allow": ", ".join(methods)})
        key = object_key(path)
        if key is None:
            return self._json(404, NOT_FOUND)
        try:
            cached = await self._fetch(key)
        except OriginError:
            log.warning("origin error for %s", key, exc_info=True)
            if fails_over(path):
                return await self._invoke(request, raw_query="")
            return self._json(502, {"error": {"code": "origin_unavailable", "parameter": None,
                                              "message": "origin unavailable"}})
        if cached is None:
            if fails_over(path):
                # CloudFront forwards no query string on these behaviours (CachingOptimized policy).
                return await self._invoke(request, raw_query="")
            return self._json(404, NOT_FOUND)
        return self._from_cache(request, cached, path in FAILOVER_PATHS)

    def _from_cache(self, request: web.Request, cached: Cached, snapshot: bool) -> web.Response:
        headers = {**EDGE_HEADERS, "ETag": cached.etag, "Cache-Control": cached.cache_control}
        if cached.version is not None:
            headers[VERSION_HEADER] = cached.version
        if snapshot:
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
            return self._json(404, {"error": {"code": "not_found", "parameter": None,
                                              "message": "no read API in this stack"}})
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
            return self._json(502, {"error": {"code": "origin_error", "parameter": None,
                                              "message": "the read API failed"}})
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
            out.pop("Content-Length", None)
            return web.Response(status=status, headers=out)
        return web.Response(status=status, body=body, headers=out)

    def _call_handler(self, event: dict[str, Any], coding: str | None) -> tuple[int, dict[str, str], bytes]:
        assert self.read_handler is not None
        status, headers, body = decode_result(self.read_handler(event, LambdaContext()))
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
        self._s3_pool.shutdown(wait=False, cancel_futures=True)
