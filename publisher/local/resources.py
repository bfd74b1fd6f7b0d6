"""Create the table (with its stream) and the site bucket the local stack runs on.

The table is built from its definition in infra/data.tf (key schema, billing mode, stream view), so
the local stack's table, the tests' and the benchmarks' cannot drift from the deployed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from publisher.core.config import TABLE_HASH_KEY

DATA_TF = Path(__file__).resolve().parents[2] / "infra" / "data.tf"


@dataclass(frozen=True)
class TableDefinition:
    hash_key: str
    hash_key_type: str
    billing_mode: str
    stream_view_type: str


@lru_cache(maxsize=1)
def table_definition(path: Path = DATA_TF) -> TableDefinition:
    """`aws_dynamodb_table.this` as infra/data.tf declares it; its hash key must be the one the code
    reads stream keys by (TABLE_HASH_KEY)."""
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    parsed = hcl2.loads(path.read_text(), serialization_options=options)
    (table,) = [b["aws_dynamodb_table"]["this"] for b in parsed["resource"] if "aws_dynamodb_table" in b]
    attributes = {a["name"]: a["type"] for a in table["attribute"]}
    definition = TableDefinition(table["hash_key"], attributes[table["hash_key"]], table["billing_mode"],
                                 table["stream_view_type"])
    if definition.hash_key != TABLE_HASH_KEY or not table["stream_enabled"]:
        raise ValueError(f"{path}: the table must be keyed by {TABLE_HASH_KEY!r} with its stream on")
    return definition


def ensure_table(dynamodb: Any, table: str) -> str:
    """Create `table` as infra/ defines it (with its stream) if needed; return the stream ARN."""
    definition = table_definition()
    stream = {"StreamEnabled": True, "StreamViewType": definition.stream_view_type}
    try:
        described = dynamodb.describe_table(TableName=table)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        described = dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": definition.hash_key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": definition.hash_key, "AttributeType": definition.hash_key_type}],
            BillingMode=definition.billing_mode,
            StreamSpecification=stream,
        )["TableDescription"]
    spec = described.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        dynamodb.update_table(TableName=table, StreamSpecification=stream)
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
