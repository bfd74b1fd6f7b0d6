"""`python -m publisher restore --version N`: put the site back as it was at snapshot version N, from S3 versions.

Every public object (not the private state, not the canary's health.json, not the per-model history,
which records what was published, the bad publish included) gets back the newest of its versions
that belongs to snapshot version N or earlier, `llms.json` last as the publisher writes it. A
restored object carries its old snapshot version, so the next publish overwrites it: disable the
trigger first, fix the cause, enable it again.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

from publisher.core.config import PRIVATE_PREFIX
from publisher.core.documents import VERSION_META
from publisher.core.heartbeat import HEALTH_KEY
from publisher.ops.rebuild import add_target_arguments

NOT_RESTORED = (PRIVATE_PREFIX, "history/", HEALTH_KEY)
LAST = "llms.json"


@dataclass(frozen=True)
class Step:
    key: str
    version_id: str
    from_version: int | None  # snapshot version the key shows now (None: deleted)
    to_version: int


def _snapshot_version(s3: Any, bucket: str, key: str, version_id: str) -> int:
    head = s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
    raw = head.get("Metadata", {}).get(VERSION_META, "-1")
    return int(raw) if raw.lstrip("-").isdigit() else -1


def plan(s3: Any, bucket: str, target: int) -> tuple[list[Step], list[str]]:
    """The copies that bring each public key back to snapshot `target`, and the keys left as they are."""
    history: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in page.get("Versions", []):
            history.setdefault(entry["Key"], []).append({**entry, "marker": False})
        for entry in page.get("DeleteMarkers", []):
            history.setdefault(entry["Key"], []).append({**entry, "marker": True})
    steps: list[Step] = []
    kept: list[str] = []
    for key in sorted(history):
        if key.startswith(NOT_RESTORED):
            continue
        # Newest first, as S3 lists one key's versions; ties in LastModified keep that order.
        entries = sorted(history[key], key=lambda e: e["LastModified"], reverse=True)
        latest = next((e for e in entries if e.get("IsLatest")), entries[0])
        current = None if latest["marker"] else _snapshot_version(s3, bucket, key, latest["VersionId"])
        if current is not None and current <= target:
            continue  # already as it was at the target (or older: the publisher never rewrote it)
        chosen = next(((e, v) for e in entries if not e["marker"]
                       for v in [_snapshot_version(s3, bucket, key, e["VersionId"])] if v <= target), None)
        if chosen is None:
            kept.append(key)  # did not exist at the target version
            continue
        if not latest["marker"] and chosen[0]["ETag"] == latest["ETag"]:
            continue  # the same bytes: rewritten by later publishes, never changed
        steps.append(Step(key, chosen[0]["VersionId"], current, chosen[1]))
    steps.sort(key=lambda step: (step.key == LAST, step.key))
    return steps, kept


def apply(s3: Any, bucket: str, steps: list[Step]) -> None:
    for step in steps:
        s3.copy_object(Bucket=bucket, Key=step.key, MetadataDirective="COPY",
                       CopySource={"Bucket": bucket, "Key": step.key, "VersionId": step.version_id})


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("restore", help="put every public object back to a snapshot version (S3 versions)")
    parser.add_argument("--version", type=int, required=True, help="the snapshot version to go back to")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, copy nothing")
    # --function (deployed: real AWS) or --endpoint (local), as for every ops command; --bucket names the site.
    add_target_arguments(parser)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import boto3

    if args.endpoint and not args.function:
        from publisher.local.emulator import local_aws_env

        os.environ.update(local_aws_env(args.endpoint))
    bucket = args.bucket
    s3 = boto3.client("s3")
    steps, kept = plan(s3, bucket, args.version)
    if not steps:
        print(f"restore: nothing in s3://{bucket} is newer than snapshot version {args.version}", file=sys.stderr)
        return 1 if not kept else 0
    for step in steps:
        was = "deleted" if step.from_version is None else f"version {step.from_version}"
        print(f"{step.key}: {was} -> version {step.to_version} ({step.version_id})")
    for key in kept:
        print(f"{key}: left as is (it did not exist at version {args.version})")
    if args.dry_run:
        return 0
    apply(s3, bucket, steps)
    print(f"restore: {len(steps)} object(s) back at snapshot version {args.version}. The next publish "
          "overwrites them: keep the trigger disabled until the cause is fixed.")
    return 0
