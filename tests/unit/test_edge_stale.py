"""The local edge while S3 fails: stale-if-error and the origin timeout, as CloudFront serves them.

Regression (found by the game day, issue 24): the edge answered 502 for the page, provider files and
the feed as soon as one revalidation failed, although every object carries stale-if-error=86400 and
CloudFront keeps serving its copy; and a hanging S3 held every reader for the whole S3 client timeout.
"""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from publisher.core.config import JSON_CACHE_CONTROL
from publisher.local.edge import Edge
from publisher.local.edge_cache import ObjectCache, OriginError
from publisher.local.launch import http_get


class FlakyS3:
    """get_object answers the stored object, or fails (`mode` "error"), or hangs ("hang") until released."""

    def __init__(self, cache_control: str = JSON_CACHE_CONTROL) -> None:
        self.mode = "ok"
        self.cache_control = cache_control
        self.release = threading.Event()
        self.calls = 0

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.mode == "hang":
            self.release.wait(10)
        if self.mode in ("error", "hang"):
            raise ClientError({"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
                              "GetObject")
        if kwargs.get("IfNoneMatch") == '"v1"':
            raise ClientError({"Error": {"Code": "304"}}, "GetObject")
        return {"Body": io.BytesIO(b'{"version": 1}'), "ETag": '"v1"', "ContentType": "application/json",
                "CacheControl": self.cache_control, "Metadata": {"snapshot-version": "1"}}


def fetch_twice(s3: FlakyS3, mode: str, origin_timeout: float = 0.2) -> tuple[Any, BaseException | None]:
    """Fetch once while S3 is healthy, then again after the TTL while it is failing."""

    async def run() -> tuple[Any, BaseException | None]:
        cache = ObjectCache(s3, "bucket", max_ttl=0.01, workers=2, origin_timeout=origin_timeout)
        try:
            first = await cache.fetch("providers/x.json")
            s3.mode = mode
            await asyncio.sleep(0.02)
            try:
                await cache.fetch("providers/x.json")
            except OriginError as exc:
                return first, exc
            return first, None
        finally:
            s3.release.set()
            cache.close()

    return asyncio.run(run())


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_a_failing_or_hanging_origin_leaves_the_expired_copy_servable(mode: str) -> None:
    first, error = fetch_twice(FlakyS3(), mode)
    assert isinstance(error, OriginError)
    assert error.stale is first  # stale-if-error=86400: the copy may still be served


def test_without_stale_if_error_a_failing_origin_leaves_nothing_to_serve() -> None:
    _, error = fetch_twice(FlakyS3(cache_control="public, max-age=5, s-maxage=10"), "error")
    assert isinstance(error, OriginError) and error.stale is None


def test_an_immutable_object_stays_servable_at_any_age() -> None:
    first, error = fetch_twice(FlakyS3(cache_control="public, max-age=31536000, immutable"), "error")
    assert isinstance(error, OriginError) and error.stale is first


def test_the_edge_serves_its_last_copy_of_the_feed_while_s3_fails() -> None:
    s3 = FlakyS3()
    edge = Edge(s3, "bucket", read_handler=None, max_ttl=0.05)
    edge.start("127.0.0.1", 0)
    try:
        status, _, body = http_get(edge.url + "/changes.json")
        assert status == 200
        s3.mode = "error"
        threading.Event().wait(0.1)
        calls = s3.calls
        status, headers, failing_body = http_get(edge.url + "/changes.json")
        assert s3.calls > calls  # the edge did ask S3, which failed
        assert status == 200 and failing_body == body
        assert headers["x-amz-meta-snapshot-version"] == "1"
    finally:
        s3.release.set()
        edge.stop()


def test_the_edge_still_answers_502_when_it_never_held_a_copy() -> None:
    s3 = FlakyS3()
    s3.mode = "error"
    edge = Edge(s3, "bucket", read_handler=None, max_ttl=0.05)
    edge.start("127.0.0.1", 0)
    try:
        status, _, _ = http_get(edge.url + "/changes.json")
        assert status == 502
    finally:
        edge.stop()
