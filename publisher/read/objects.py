"""Private objects the read API answers parts of (the history shards), cached and revalidated conditionally."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from publisher.core.aws import S3_ABSENT, S3_NOT_MODIFIED, error_code
from publisher.read.errors import Unavailable

log = logging.getLogger(__name__)
# A bound on what the cache holds, by bytes: at 100k models a shard is about 1 MB.
OBJECT_CACHE_BYTES = 16 * 1024 * 1024


@dataclass
class _Entry:
    etag: str
    body: bytes
    checked: float


class ObjectCache:
    """Objects kept by bytes (least recently used out), looked at again with a conditional GET at most
    every `revalidate_seconds`, or at once with `fresh=True`. While S3 fails, the copy in hand is
    served; without one the answer is a 503."""

    def __init__(self, s3: Callable[[], Any], bucket: str, revalidate_seconds: float = 1,
                 clock: Callable[[], float] = time.monotonic, max_bytes: int = OBJECT_CACHE_BYTES) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.revalidate_seconds = revalidate_seconds
        self.clock = clock
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, fresh: bool = False) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        from botocore.exceptions import BotoCoreError, ClientError

        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None and not fresh and self.clock() - entry.checked < self.revalidate_seconds:
            return entry.body
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if entry is not None:
            kwargs["IfNoneMatch"] = f'"{entry.etag}"'
        try:
            response = self._s3().get_object(**kwargs)
            body = response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc)
            if code in S3_NOT_MODIFIED and entry is not None:
                entry.checked = self.clock()
                return entry.body
            if code in S3_ABSENT:
                self._drop(key)
                return None
            if entry is not None:
                log.warning("object unreadable; serving the copy in hand", extra={"key": key, "reason": code})
                return entry.body
            log.warning("object unreadable", extra={"key": key, "reason": code or type(exc).__name__})
            raise Unavailable("object_unavailable", f"{key} cannot be read right now") from exc
        self._keep(key, _Entry(str(response.get("ETag", "")).strip('"'), body, self.clock()))
        return body

    def _drop(self, key: str) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)

    def _keep(self, key: str, entry: _Entry) -> None:
        self._drop(key)
        if len(entry.body) > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)
