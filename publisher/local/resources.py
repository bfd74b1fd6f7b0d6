"""Create the table (with its stream) and the site bucket the local stack runs on."""

from __future__ import annotations

from typing import Any

from publisher.core.config import TABLE_HASH_KEY


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


# The dead-letter queue of the local trigger, named as infra/ names the deployed one.
LOCAL_DLQ_NAME = "llm-catalogue-publisher-dlq"
# Where the local trigger keeps its Enabled flag (an event source mapping's, in AWS): an SSM
# parameter in the emulator, so `python -m publisher trigger --endpoint ...` can flip it from outside.
TRIGGER_PARAMETER = "/llm-catalogue/local/stream-trigger"
TRIGGER_ENABLED = "enabled"
TRIGGER_DISABLED = "disabled"
# What the running trigger last applied ("Enabled" / "Disabled"), as a mapping's State reports it.
TRIGGER_STATE_PARAMETER = "/llm-catalogue/local/stream-trigger-state"


def ensure_queue(sqs: Any, name: str = LOCAL_DLQ_NAME) -> str:
    """Create the dead-letter queue if needed (14 days, as in infra/); return its URL."""
    return str(sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"])


def set_trigger(ssm: Any, enabled: bool) -> None:
    ssm.put_parameter(Name=TRIGGER_PARAMETER, Value=TRIGGER_ENABLED if enabled else TRIGGER_DISABLED,
                      Type="String", Overwrite=True)


def report_trigger_state(ssm: Any, enabled: bool) -> None:
    ssm.put_parameter(Name=TRIGGER_STATE_PARAMETER, Value="Enabled" if enabled else "Disabled",
                      Type="String", Overwrite=True)


def trigger_state(ssm: Any) -> str:
    try:
        return str(ssm.get_parameter(Name=TRIGGER_STATE_PARAMETER)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return "Unknown"


def trigger_enabled(ssm: Any) -> bool:
    """True unless the parameter says disabled (a missing parameter means the trigger was never turned off)."""
    try:
        return ssm.get_parameter(Name=TRIGGER_PARAMETER)["Parameter"]["Value"] != TRIGGER_DISABLED
    except ssm.exceptions.ParameterNotFound:
        return True
