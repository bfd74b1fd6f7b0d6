"""Fast deterministic stand-ins for the two AWS clients the publisher uses, boto3-shaped: the project's
real store, publisher and handler talk to them through the same calls as to S3 and DynamoDB.

Only what the write path calls is served, with S3's semantics for it (checked against moto by
test_fake_conformance.py): conditional PUT (If-Match, If-None-Match: *), conditional DELETE
(If-Match), GET/HEAD with metadata and ETag, ListObjectsV2 pages; a DynamoDB Scan paginator.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from publisher.core.ddb import serialize

LIST_PAGE = 1000


def client_error(code: str, status: int, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@dataclass(frozen=True)
class Stored:
    body: bytes
    etag: str
    content_type: str
    cache_control: str
    metadata: dict[str, str]


class FakeS3:
    """One bucket's objects in a dict; every call atomic (S3 is atomic per key)."""

    def __init__(self) -> None:
        self.objects: dict[str, Stored] = {}
        self.lock = threading.Lock()
        # Called with (key, body) after every PUT that landed: the simulation records what readers saw.
        self.on_put: list[Callable[[str, bytes], None]] = []

    def _missing(self, op: str, head: bool = False) -> ClientError:
        return client_error("404" if head else "NoSuchKey", 404, op)

    def _check(self, op: str, key: str, if_match: str | None, if_none_match: str | None) -> None:
        current = self.objects.get(key)
        if if_match is not None:
            if current is None:
                raise self._missing(op)
            if if_match.strip('"') != current.etag:
                raise client_error("PreconditionFailed", 412, op)
        if if_none_match == "*" and current is not None:
            raise client_error("PreconditionFailed", 412, op)

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str = "binary/octet-stream",
                   CacheControl: str = "", Metadata: dict[str, str] | None = None, IfMatch: str | None = None,
                   IfNoneMatch: str | None = None, **_: Any) -> dict[str, Any]:
        body = Body if isinstance(Body, bytes) else Body.encode()
        with self.lock:
            self._check("PutObject", Key, IfMatch, IfNoneMatch)
            etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
            self.objects[Key] = Stored(body, etag, ContentType, CacheControl,
                                       {k.lower(): v for k, v in (Metadata or {}).items()})
            for hook in self.on_put:
                hook(Key, body)
        return {"ETag": f'"{etag}"'}

    def _response(self, stored: Stored) -> dict[str, Any]:
        return {"ETag": f'"{stored.etag}"', "Metadata": dict(stored.metadata), "ContentType": stored.content_type,
                "CacheControl": stored.cache_control, "ContentLength": len(stored.body)}

    def get_object(self, *, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        with self.lock:
            stored = self.objects.get(Key)
        if stored is None:
            raise self._missing("GetObject")
        return {**self._response(stored), "Body": io.BytesIO(stored.body)}

    def head_object(self, *, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        with self.lock:
            stored = self.objects.get(Key)
        if stored is None:
            raise self._missing("HeadObject", head=True)
        return self._response(stored)

    def delete_object(self, *, Bucket: str, Key: str, IfMatch: str | None = None, **_: Any) -> dict[str, Any]:
        with self.lock:
            self._check("DeleteObject", Key, IfMatch, None)
            self.objects.pop(Key, None)
        return {}

    def list_objects_v2(self, *, Bucket: str, Prefix: str = "", StartAfter: str = "",
                        MaxKeys: int = LIST_PAGE, **_: Any) -> dict[str, Any]:
        with self.lock:
            keys = sorted(k for k in self.objects if k.startswith(Prefix) and k > StartAfter)
        page = keys[:MaxKeys]
        response: dict[str, Any] = {"KeyCount": len(page), "IsTruncated": len(keys) > MaxKeys,
                                    "Contents": [{"Key": k, "ETag": f'"{self.objects[k].etag}"'} for k in page]}
        if not page:
            del response["Contents"]
        return response

    def get_paginator(self, name: str) -> Any:
        assert name == "list_objects_v2", name
        return _Pages(self._pages)

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        after = ""
        while True:
            page = self.list_objects_v2(**kwargs, StartAfter=after)
            yield page
            if not page["IsTruncated"]:
                return
            after = page["Contents"][-1]["Key"]


@dataclass
class _Pages:
    pages: Callable[..., Iterator[dict[str, Any]]]

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs.pop("PaginationConfig", None)
        return self.pages(**kwargs)


class FakeDynamoDB:
    """A table's items (plain values) served as Scan pages in DynamoDB JSON."""

    def __init__(self, items: dict[str, dict[str, Any]], page: int = 7) -> None:
        self.items = items
        self.page = page

    def scan(self, *, TableName: str, ExclusiveStartKey: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:
        names = sorted(self.items)
        start = 0
        if ExclusiveStartKey is not None:
            # Items may come and go between pages (writes racing the scan): resume after the key.
            start = bisect.bisect_right(names, ExclusiveStartKey["model_name"]["S"])
        chunk = names[start:start + self.page]
        response: dict[str, Any] = {"Items": [serialize(self.items[n])["M"] for n in chunk], "Count": len(chunk)}
        if start + self.page < len(names):
            response["LastEvaluatedKey"] = {"model_name": {"S": chunk[-1]}}
        return response

    def get_paginator(self, name: str) -> Any:
        assert name == "scan", name
        return _Pages(self._pages)

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs.pop("ConsistentRead", None)
        start = None
        while True:
            page = self.scan(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
            yield page
            start = page.get("LastEvaluatedKey")
            if start is None:
                return
