"""Create the table (with its stream) and the site bucket the local stack runs on."""

from __future__ import annotations

from typing import Any

from publisher.config import TABLE_HASH_KEY


def ensure_table(dynamodb: Any, table: str) -> str:
    """Create `table` with a NEW_AND_OLD_IMAGES stream if needed; return the stream ARN."""
    try:
        described = dynamodb.describe_table(TableName=table)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        described = dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": TABLE_HASH_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": TABLE_HASH_KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
    spec = described.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        dynamodb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        described = dynamodb.describe_table(TableName=table)["Table"]
    return str(described["LatestStreamArn"])


def ensure_bucket(s3: Any, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
