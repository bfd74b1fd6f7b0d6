"""Where the read API's data comes from: the S3 snapshot revalidated conditionally, else a DynamoDB scan."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from publisher.core import text
from publisher.core.aws import S3_ABSENT, S3_NOT_MODIFIED, error_code
from publisher.core.clock import EPOCH, iso
from publisher.core.documents import DIGEST_META, VERSION_META
from publisher.core.heartbeat import is_heartbeat
from publisher.core.model import InvalidItem, to_record
from publisher.read.catalogue import SOURCE_DYNAMODB, SOURCE_S3, Catalogue
from publisher.read.errors import Unavailable
from publisher.read.objects import ObjectCache

log = logging.getLogger(__name__)
SNAPSHOT_KEY = "llms.json"
# Written by the same publish as llms.json, just before it: its version metadata is the same.
ARRAY_KEY = "llms"
# After S3 and DynamoDB both failed with no copy in hand, requests get their 503 at once for this long.
FAILED_RETRY_INTERVAL = 0.5
# While the snapshot cannot be read, a copy scanned from DynamoDB is kept this long before the next
# scan (S3 is still tried at every revalidation): a scan reads the whole table.
FALLBACK_RESCAN_SECONDS = 5.0

ClientFactory = Callable[[], Any]


class SourceError(RuntimeError):
    """The origin could not be read (not the same as the object being absent)."""


def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


class SnapshotSource:
    """A thread-safe in-memory copy of the catalogue, refreshed at most every `revalidate_seconds`.

    While one thread refreshes on schedule, the others keep answering from the copy they have, so a
    slow origin never queues requests behind it. A forced refresh (a name not found, a min_version
    or cursor from a newer snapshot) is different: it needs a look at S3 that began after the
    request did, so it waits for one, sharing it with any other request that needs the same.
    """

    def __init__(self, s3: ClientFactory, dynamodb: ClientFactory, bucket: str, table: str,
                 revalidate_seconds: float = 1, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._s3 = s3
        self._dynamodb = dynamodb
        self.bucket = bucket
        self.table = table
        self.revalidate_seconds = revalidate_seconds
        self.clock = clock
        self.wall_clock = wall_clock
        self._catalogue: Catalogue | None = None
        self._checked = float("-inf")
        self._loaded_at: datetime | None = None
        # The newest snapshot version this instance has seen: a fallback never goes below it.
        self._last_s3_version: int | None = None
        self._last_s3_generated_at = EPOCH
        self._lock = threading.Lock()
        # Refreshes begun, and which of them the last completed one was (both under the lock).
        self._refreshes_begun = 0
        self._last_completed = 0
        self._scanned = float("-inf")
        self._objects = ObjectCache(s3, bucket, revalidate_seconds, clock)

    @property
    def loaded_at(self) -> datetime | None:
        """When the current copy was read from its origin (wall clock)."""
        return self._loaded_at

    def current(self, force: bool = False, prefer_fresh_s3: bool = False,
                min_version: int | None = None) -> Catalogue:
        """The catalogue to answer from; Unavailable when neither S3 nor DynamoDB gave any data yet.

        `force` answers from a look at S3 begun after this call; `min_version` forces one when the
        copy is older (the caller checks the result); `prefer_fresh_s3` revalidates an S3 copy now
        if no other refresh is running, which the failover routes use because the CDN only calls
        them when the S3 object just failed.
        """
        ticket = self._refreshes_begun
        catalogue = self._catalogue
        checked = self._checked
        now = self.clock()
        if min_version is not None and catalogue is not None and catalogue.cursor_version < min_version:
            force = True
        due = force or now - checked >= self.revalidate_seconds
        if prefer_fresh_s3 and catalogue is not None and catalogue.source == SOURCE_S3:
            due = True
        if catalogue is not None and not due:
            return catalogue
        if catalogue is None and now - checked < FAILED_RETRY_INTERVAL:
            # Both origins just failed: answer 503 at once instead of queueing behind another try.
            raise Unavailable("no_data", "the catalogue cannot be read from S3 or DynamoDB right now")
        if catalogue is not None and not force:
            if not self._lock.acquire(blocking=False):
                return catalogue
        else:
            self._lock.acquire()
        try:
            fresh_enough = self._last_completed > ticket if force else self._checked != checked
            if not fresh_enough or self._catalogue is None:
                self._refresh()
        finally:
            self._lock.release()
        if self._catalogue is None:
            raise Unavailable("no_data", "the catalogue cannot be read from S3 or DynamoDB right now")
        return self._catalogue

    def _refresh(self) -> None:
        self._refreshes_begun += 1
        try:
            self._revalidate()
        finally:
            self._last_completed = self._refreshes_begun

    def _revalidate(self) -> None:
        current = self._catalogue
        etag = current.etag if current is not None and current.source == SOURCE_S3 else None
        reason = "snapshot_unreadable"
        try:
            fetched = self._get_snapshot(etag)
        except SourceError as exc:
            log.warning("snapshot unreadable, scanning DynamoDB", extra={"reason": str(exc)})
        else:
            if fetched == "not-modified":
                self._checked = self.clock()
                return
            if isinstance(fetched, Catalogue):
                fetched.array_object = self._array_object()
                self._install(fetched)
                self._last_s3_version = max(fetched.version or 0, self._last_s3_version or 0)
                self._last_s3_generated_at = fetched.generated_at
                return
            reason = "snapshot_missing"
            log.info("no snapshot object in S3, scanning DynamoDB", extra={"key": SNAPSHOT_KEY})
        if current is not None and current.source == SOURCE_DYNAMODB and \
                self.clock() - self._scanned < FALLBACK_RESCAN_SECONDS:
            self._checked = self.clock()
            return
        try:
            self._install(self._scan(reason))
            self._scanned = self.clock()
        except SourceError as exc:
            self._checked = self.clock()
            if current is None:
                log.error("no data: S3 and DynamoDB both failed", extra={"reason": str(exc)})
            else:
                log.error("DynamoDB scan failed; serving the copy we have",
                          extra={"reason": str(exc), "version": current.version, "source": current.source})

    def _install(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self._checked = self.clock()
        self._loaded_at = self.wall_clock()

    def _get_snapshot(self, etag: str | None) -> Catalogue | str | None:
        """The S3 snapshot, "not-modified" for a 304, or None when the object does not exist."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": SNAPSHOT_KEY}
        if etag:
            kwargs["IfNoneMatch"] = etag
        try:
            response = self._s3().get_object(**kwargs)
            body = response["Body"].read()
        except _aws_errors() as exc:
            code = error_code(exc)
            if code in S3_NOT_MODIFIED:
                return "not-modified"
            if code in S3_ABSENT:
                return None
            raise SourceError(f"s3://{self.bucket}/{SNAPSHOT_KEY}: {code or type(exc).__name__}") from exc
        try:
            return Catalogue.from_document(body, SOURCE_S3, response.get("ETag"))
        except ValueError as exc:
            raise SourceError(f"s3://{self.bucket}/{SNAPSHOT_KEY} is not a snapshot: {exc}") from exc

    def _array_object(self) -> tuple[str, str] | None:
        """ETag and stored content hash of `llms` (written just before llms.json): one HEAD per new
        snapshot, so a failover answer for /llms can carry the ETag S3 gave it."""
        try:
            response = self._s3().head_object(Bucket=self.bucket, Key=ARRAY_KEY)
        except _aws_errors():
            return None
        digest = response.get("Metadata", {}).get(DIGEST_META)
        etag = response.get("ETag")
        return (str(etag), digest) if digest and etag else None

    def _version_metadata(self, **kwargs: Any) -> int | None:
        try:
            raw = self._s3().head_object(Bucket=self.bucket, **kwargs).get("Metadata", {}).get(VERSION_META)
        except _aws_errors():
            return None
        return int(raw) if isinstance(raw, str) and raw.isdigit() else None

    def newest_published_version(self, ask_s3: bool = True) -> int | None:
        """The newest snapshot version that can be known without llms.json: this instance's own, the
        version of `llms` (same publish), or of the newest surviving version of a deleted llms.json
        (the bucket is versioned). None when none can be found (nothing published, or S3 is down).
        `ask_s3=False` when S3 is failing: its answers would only add timeouts to the fallback."""
        if not ask_s3:
            return self._last_s3_version
        known = [v for v in (self._last_s3_version, self._version_metadata(Key=ARRAY_KEY)) if v is not None]
        try:
            listed = self._s3().list_object_versions(Bucket=self.bucket, Prefix=SNAPSHOT_KEY, MaxKeys=10)
        except _aws_errors():
            listed = {}
        versions = [v for v in listed.get("Versions", []) if v.get("Key") == SNAPSHOT_KEY]
        if versions:
            newest = max(versions, key=lambda v: v.get("LastModified") or datetime.min.replace(tzinfo=UTC))
            found = self._version_metadata(Key=SNAPSHOT_KEY, VersionId=newest["VersionId"])
            if found is not None:
                known.append(found)
        return max(known) if known else None

    def _scan(self, reason: str) -> Catalogue:
        from publisher.core.ddb import scan_items

        records: list[dict[str, Any]] = []
        skipped = 0
        try:
            for item in scan_items(self._dynamodb(), self.table):
                if is_heartbeat(item.get("model_name")):
                    continue  # the freshness canary's item, never catalogue data
                try:
                    records.append(to_record(item))
                except InvalidItem as exc:
                    skipped += 1
                    log.warning("invalid item left out",
                                extra={"model_name": text.visible(exc.key), "reason": exc.reason})
        except _aws_errors() as exc:
            raise SourceError(f"scanning {self.table}: {error_code(exc) or type(exc).__name__}") from exc
        # The publisher's version and time live in its private state, which this function may not
        # read: label the scan with the newest published version to be found, so clients never see
        # the version go backward, and say that it is a fallback (the schema defines the marker).
        stamps = [r["updated_at"] for r in records if "updated_at" in r]
        generated_at = max([self._last_s3_generated_at, *stamps])
        fallback = {"source": SOURCE_DYNAMODB, "reason": reason, "scanned_at": iso(self.wall_clock())}
        version = self.newest_published_version(ask_s3=reason == "snapshot_missing")
        return Catalogue.from_records(version, generated_at, records, SOURCE_DYNAMODB, fallback)

    def object_bytes(self, key: str, fresh: bool = False) -> bytes | None:
        """A private object the API answers parts of (a history shard), or None when it does not exist;
        cached like the snapshot, looked at again at once with `fresh`."""
        return self._objects.get(key, fresh)


def age_seconds(catalogue: Catalogue, loaded_at: datetime | None, now: datetime) -> float:
    """How old the served data is: since the snapshot's generated_at, or since the scan for DynamoDB."""
    if catalogue.source == SOURCE_DYNAMODB and loaded_at is not None:
        return max(0.0, (now - loaded_at).total_seconds())
    try:
        generated = datetime.fromisoformat(catalogue.generated_at.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=UTC)
    return max(0.0, (now - generated).total_seconds())
