"""S3 access for the publisher: the private state and the public objects, with conditional writes."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from publisher.core.aws import S3_CONFLICT, S3_MISSING, error_code
from publisher.core.config import STATE_KEY
from publisher.core.documents import DIGEST_META, VERSION_META, Prior, SiteObject, content_digest
from publisher.publish.state import State

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """S3 failed in a way a retry of the whole batch may fix."""


class SnapshotConflict(StoreError):
    """Someone else wrote the object between our read and our conditional write."""


@dataclass(frozen=True)
class WriteReport:
    written: int
    skipped: int
    bytes: int
    conflicts: int
    # (key, ETag) of the objects this publish created where none existed (If-None-Match).
    created: tuple[tuple[str, str], ...] = ()
    deleted: int = 0


def _strip(etag: str) -> str:
    return etag.strip('"')


class Current(NamedTuple):
    """What the bucket holds under a key: its ETag, snapshot version and content hash (None: not ours)."""

    etag: str
    version: int
    digest: str | None


def _current(response: dict[str, Any]) -> Current:
    metadata = response.get("Metadata", {})
    raw = metadata.get(VERSION_META, "-1")
    version = int(raw) if raw.lstrip("-").isdigit() else -1
    return Current(_strip(response["ETag"]), version, metadata.get(DIGEST_META))


def _from_prior(prior: Prior) -> Current | None:
    return None if prior.etag is None else Current(prior.etag, prior.version, prior.digest)


class SiteStore:
    """The site bucket. `s3` is a boto3 S3 client."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def load_state(self) -> tuple[State, str | None]:
        """The current state and its ETag, or an empty state and None when none was written yet."""
        from botocore.exceptions import ClientError

        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=STATE_KEY)
        except ClientError as exc:
            if error_code(exc) in S3_MISSING:
                return State(), None
            raise StoreError(f"reading s3://{self.bucket}/{STATE_KEY}: {error_code(exc)}") from exc
        body = response["Body"].read()
        state = State.from_bytes(body)
        state.source_digest = content_digest(body)
        return state, _strip(response["ETag"])

    def save_state(self, state: State, etag: str | None) -> str:
        """Write the state only if it is still the one we read (or still absent); an unchanged state
        (a rebuild that found no drift) is not written at all."""
        from botocore.exceptions import ClientError

        body = state.to_bytes()
        digest = content_digest(body)
        if etag and digest == state.source_digest:
            return etag
        condition = {"IfMatch": f'"{etag}"'} if etag else {"IfNoneMatch": "*"}
        try:
            response = self.s3.put_object(
                Bucket=self.bucket,
                Key=STATE_KEY,
                Body=body,
                ContentType="application/json",
                CacheControl="no-store",
                Metadata={VERSION_META: str(state.version), DIGEST_META: digest},
                **condition,
            )
        except ClientError as exc:
            if error_code(exc) in S3_CONFLICT:
                raise SnapshotConflict(f"state changed under us (version {state.version})") from exc
            raise StoreError(f"writing s3://{self.bucket}/{STATE_KEY}: {error_code(exc)}") from exc
        state.source_digest = digest
        return _strip(response["ETag"])

    def head(self, key: str) -> Current | None:
        """(ETag, snapshot version, content hash) of an object, or None when it does not exist."""
        from botocore.exceptions import ClientError

        try:
            response = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in S3_MISSING:
                return None
            raise StoreError(f"reading s3://{self.bucket}/{key}: {error_code(exc)}") from exc
        return _current(response)

    def put_if_newer(self, obj: SiteObject, version: int, attempts: int = 5) -> tuple[bool, int]:
        """Write `obj` unless the bucket already holds its bytes or a newer snapshot's copy (see _put)."""
        written, conflicts, _ = self._put(obj, version, attempts)
        return written, conflicts

    def _put(self, obj: SiteObject, version: int, attempts: int = 5) -> tuple[bool, int, str | None]:
        """Write `obj` unless the bucket already holds its bytes or a newer snapshot's copy of it.

        Returns (written, conflicts, the new ETag when the key was created). The write is
        conditional on the ETag seen by the check, so a
        slower publisher holding an older version can never overwrite a newer object. Equal bytes
        are recognised by the content hash in the object's metadata, whatever its version: every
        document that must carry its version (llms.json, the page) has it in its bytes.
        """
        from botocore.exceptions import ClientError

        conflicts = 0
        for attempt in range(attempts):
            current: Current | None
            if attempt == 0 and obj.prior is not None:
                current = _from_prior(obj.prior)
            elif attempt > 0 and obj.merge is not None:
                body, prior = self.get_with_prior(obj.key)
                merged = obj.merge(body)
                if merged == body:
                    return False, conflicts, None
                obj = replace(obj, body=merged, prior=prior)
                current = _from_prior(prior)
            else:
                current = self.head(obj.key)
            same = current is not None and current.digest == obj.digest
            if same and obj.marks_version and current is not None and current.version < version:
                same = False
            if current is not None and (same or (obj.merge is None and current.version > version)):
                return False, conflicts, None
            written_version = max(version, current.version) if current is not None else version
            condition = {"IfMatch": f'"{current.etag}"'} if current else {"IfNoneMatch": "*"}
            try:
                response = self.s3.put_object(
                    Bucket=self.bucket,
                    Key=obj.key,
                    Body=obj.body,
                    ContentType=obj.content_type,
                    CacheControl=obj.cache_control,
                    Metadata={VERSION_META: str(written_version), DIGEST_META: obj.digest},
                    **condition,
                )
                return True, conflicts, None if current else _strip(response["ETag"])
            except ClientError as exc:
                # If-Match on a key deleted since the check answers 404: a conflict like a 412.
                gone = current is not None and error_code(exc) in S3_MISSING
                if error_code(exc) not in S3_CONFLICT and not gone:
                    raise StoreError(f"writing s3://{self.bucket}/{obj.key}: {error_code(exc)}") from exc
                conflicts += 1
        raise SnapshotConflict(f"{obj.key}: gave up after {attempts} conflicting writes")

    def put_conditional(self, obj: SiteObject, version: int, condition: dict[str, str]) -> bool:
        """One PUT under an S3 condition (IfNoneMatch / IfMatch): False when it failed (someone else wrote)."""
        from botocore.exceptions import ClientError

        try:
            self.s3.put_object(Bucket=self.bucket, Key=obj.key, Body=obj.body, ContentType=obj.content_type,
                               CacheControl=obj.cache_control,
                               Metadata={VERSION_META: str(version), DIGEST_META: obj.digest}, **condition)
        except ClientError as exc:
            if error_code(exc) in S3_CONFLICT:
                return False
            raise StoreError(f"writing s3://{self.bucket}/{obj.key}: {error_code(exc)}") from exc
        return True

    def publish(self, objects: Iterable[SiteObject], version: int, workers: int = 16,
                deletes: Iterable[str] = ()) -> WriteReport:
        """Write the objects in parallel, then delete `deletes` (see delete_if_not_newer), then
        `llms.json` last: once its version shows, every other object and delete of it has landed."""
        objects = list(objects)
        head = [o for o in objects if o.key != "llms.json"]
        tail = [o for o in objects if o.key == "llms.json"]
        written = skipped = size = conflicts = deleted = 0
        created: list[tuple[str, str]] = []

        def count(obj: SiteObject, result: tuple[bool, int, str | None]) -> None:
            nonlocal written, skipped, size, conflicts
            did_write, obj_conflicts, etag = result
            written += did_write
            skipped += not did_write
            size += len(obj.body) if did_write else 0
            conflicts += obj_conflicts
            if etag is not None:
                created.append((obj.key, etag))

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for obj, result in zip(head, pool.map(lambda o: self._put(o, version), head), strict=True):
                count(obj, result)
        for key in sorted(deletes):
            deleted += self.delete_if_not_newer(key, version)
        for obj in tail:
            count(obj, self._put(obj, version))
        return WriteReport(written, skipped, size, conflicts, tuple(created), deleted)

    def delete_if_not_newer(self, key: str, version: int, attempts: int = 5) -> bool:
        """Delete `key` unless a newer snapshot wrote it; True when this call deleted it.

        The DELETE is conditional on the ETag the HEAD saw (S3's DeleteObject If-Match), so an object
        a newer publish wrote between the two is never removed."""
        for _ in range(attempts):
            current = self.head(key)
            if current is None or current.version > version:
                return False
            if self.delete_matching(key, current.etag):
                return True
        raise SnapshotConflict(f"{key}: gave up deleting after {attempts} conflicting writes")

    def delete_matching(self, key: str, etag: str) -> bool:
        """Delete `key` only while it holds the object with `etag`; False when it holds another or none."""
        from botocore.exceptions import ClientError

        try:
            self.s3.delete_object(Bucket=self.bucket, Key=key, IfMatch=f'"{etag}"')
        except ClientError as exc:
            if error_code(exc) in S3_CONFLICT or error_code(exc) in S3_MISSING:
                return False
            raise StoreError(f"deleting s3://{self.bucket}/{key}: {error_code(exc)}") from exc
        return True

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix`, listed page by page."""
        from botocore.exceptions import ClientError

        found: list[str] = []
        try:
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(item["Key"] for item in page.get("Contents", []))
        except ClientError as exc:
            raise StoreError(f"listing s3://{self.bucket}/{prefix}: {error_code(exc)}") from exc
        return sorted(found)

    def get_with_prior(self, key: str) -> tuple[bytes | None, Prior]:
        """An object's bytes (None when absent) and what a conditional overwrite of it needs."""
        from botocore.exceptions import ClientError

        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in S3_MISSING:
                return None, Prior(None, -1)
            raise StoreError(f"reading s3://{self.bucket}/{key}: {error_code(exc)}") from exc
        current = _current(response)
        return response["Body"].read(), Prior(current.etag, current.version, current.digest)

    def get_bytes(self, key: str) -> bytes | None:
        """An object's bytes, or None when it does not exist."""
        return self.get_with_prior(key)[0]
