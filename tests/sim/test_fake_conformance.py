"""The simulation's fake S3 answers the write path's calls as moto does: the same operation sequence
(conditional PUT and DELETE, GET, HEAD, listing) against both, compared result by result."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import TEST_BUCKET
from tests.sim.fakes import FakeS3


def outcome(call: Any) -> tuple[str, Any]:
    try:
        response = call()
    except ClientError as exc:
        return "error", exc.response["Error"]["Code"]
    if "Body" in response:
        return "ok", response["Body"].read()
    if "Contents" in response or "KeyCount" in response:
        return "ok", [c["Key"] for c in response.get("Contents", [])]
    return "ok", {k: response[k] for k in ("ETag", "Metadata") if k in response}


def sequence(s3: Any) -> list[tuple[str, Any]]:
    b = TEST_BUCKET
    etags: dict[str, str] = {}

    def put(key: str, body: bytes, **condition: str) -> Any:
        response = s3.put_object(Bucket=b, Key=key, Body=body, ContentType="application/json",
                                 Metadata={"snapshot-version": "1"}, **condition)
        etags[key] = response["ETag"]
        return response

    steps = [
        lambda: put("a.json", b"1", IfNoneMatch="*"),
        lambda: put("a.json", b"2", IfNoneMatch="*"),  # exists: 412
        lambda: put("a.json", b"3", IfMatch=etags["a.json"]),
        lambda: put("a.json", b"4", IfMatch='"0123456789abcdef0123456789abcdef"'),  # stale ETag: 412
        lambda: put("gone.json", b"5", IfMatch='"0123456789abcdef0123456789abcdef"'),  # missing: 404
        lambda: s3.get_object(Bucket=b, Key="a.json"),
        lambda: s3.head_object(Bucket=b, Key="a.json"),
        lambda: s3.head_object(Bucket=b, Key="none.json"),
        lambda: s3.get_object(Bucket=b, Key="none.json"),
        lambda: put("providers/x.json", b"x"),
        lambda: put("providers/y.json", b"y"),
        lambda: s3.list_objects_v2(Bucket=b, Prefix="providers/"),
        lambda: s3.delete_object(Bucket=b, Key="providers/x.json", IfMatch='"0123456789abcdef0123456789abcdef"'),
        lambda: s3.delete_object(Bucket=b, Key="providers/x.json", IfMatch=etags["providers/x.json"]),
        lambda: s3.delete_object(Bucket=b, Key="providers/x.json", IfMatch=etags["providers/x.json"]),  # gone
        lambda: s3.delete_object(Bucket=b, Key="providers/never.json"),  # unconditional: no error
        lambda: [page["Contents"][0]["Key"] for page in
                 s3.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix="providers/")],
        lambda: s3.head_object(Bucket=b, Key="providers/x.json"),
    ]
    results = []
    for step in steps:
        result = outcome(step) if step is not steps[-2] else ("ok", step())
        results.append(result)
    return results


def test_the_fake_s3_agrees_with_moto(bucket: str) -> None:
    from publisher.core import aws

    assert sequence(FakeS3()) == sequence(aws.client("s3"))
