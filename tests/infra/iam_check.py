"""Least privilege, checked: are the AWS calls a handler makes allowed by its role's policy in infra/?

The policies are read from the HCL (the `aws_iam_policy_document` data sources in infra/*.tf), not
from a plan, so this runs without Terraform or AWS. Operations are botocore names,
`service.OperationName` (`s3.PutObject`, `dynamodb.Scan`), as a `before-call` event hook records
them, with the key they touched. What is checked: the action; for S3, the object key (or the
bucket) against the statement's resources; for DynamoDB, the table against the stream (a table
action needs the table's ARN, a stream action the stream's), and the item's partition key against
a `dynamodb:LeadingKeys` condition. Other services' resources and any other condition are not
evaluated (their actions are on this stack's own log group, queue, key, or X-Ray's "*").
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from publisher.core.heartbeat import HEARTBEAT_KEY

INFRA = Path(__file__).resolve().parents[2] / "infra"

# Function -> its policy document in infra/*.tf.
POLICY_DOCUMENTS = {"publisher": "publisher", "read": "read", "canary": "canary"}
ALIASES = {"read_api": "read", "read-api": "read", "publish": "publisher"}

# botocore service name -> IAM action prefix, where they differ.
SERVICE_PREFIX = {"dynamodbstreams": "dynamodb"}

# Operations authorised by another operation's IAM action.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
OPERATION_ACTION = {
    "s3.HeadObject": "s3:GetObject",
    "s3.ListObjectsV2": "s3:ListBucket",
    "s3.ListObjects": "s3:ListBucket",
    "s3.HeadBucket": "s3:ListBucket",
    "s3.DeleteObjects": "s3:DeleteObject",
    "s3.GetObjectAttributes": "s3:GetObject",
    "s3.CopyObject": "s3:PutObject",  # plus s3:GetObject on the source
    "s3.ListObjectVersions": "s3:ListBucketVersions",
    # tests/conftest.py marks a call that names a VersionId.
    "s3.HeadObject(VersionId)": "s3:GetObjectVersion",
    "s3.GetObject(VersionId)": "s3:GetObjectVersion",
}

# Granted on purpose although no handler code calls them: the Lambda service, the runtime or
# another AWS service uses them with the function's role.
SERVICE_USED: dict[str, dict[str, str]] = {
    "publisher": {
        "dynamodb:DescribeStream": "the event source mapping's stream poller",
        "dynamodb:GetRecords": "the event source mapping's stream poller",
        "dynamodb:GetShardIterator": "the event source mapping's stream poller",
        "dynamodb:ListStreams": "the event source mapping's stream poller",
        "sqs:SendMessage": "the trigger's on-failure destination and the async dead-letter queue",
        "kms:Decrypt": "S3 and DynamoDB decrypting SSE-KMS data for the function",
        "kms:GenerateDataKey": "S3 and SQS encrypting with the service key for the function",
        "logs:CreateLogStream": "the Lambda runtime's log delivery",
        "logs:PutLogEvents": "the Lambda runtime's log delivery",
        "xray:PutTraceSegments": "active tracing (Lambda service and the X-Ray SDK)",
        "xray:PutTelemetryRecords": "active tracing (Lambda service and the X-Ray SDK)",
    },
    "read": {
        "s3:ListBucket": "not called: it makes S3 answer a missing key with 404 instead of 403",
        "kms:Decrypt": "S3 and DynamoDB decrypting SSE-KMS data for the function",
        "logs:CreateLogStream": "the Lambda runtime's log delivery",
        "logs:PutLogEvents": "the Lambda runtime's log delivery",
        "xray:PutTraceSegments": "active tracing (Lambda service and the X-Ray SDK)",
        "xray:PutTelemetryRecords": "active tracing (Lambda service and the X-Ray SDK)",
    },
    "canary": {
        "kms:Decrypt": "DynamoDB decrypting the table key of the encrypted table for the canary's PutItem",
        "logs:CreateLogStream": "the Lambda runtime's log delivery",
        "logs:PutLogEvents": "the Lambda runtime's log delivery",
    },
}

BUCKET_REF = "${aws_s3_bucket.site.arn}"
TABLE_REF = "${aws_dynamodb_table.this.arn}"
# DynamoDB Streams operations act on the stream's ARN, every other DynamoDB operation on the table's.
STREAM_ACTIONS = frozenset({"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                            "dynamodb:ListStreams"})
# Terraform references in a condition's values, resolved to what the code uses.
CONDITION_VALUES = {"${local.canary.heartbeat_key}": HEARTBEAT_KEY}


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    effect: str = "Allow"
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (test, variable, values)

    def grants(self, action: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions)

    def covers(self, action: str, key: str | None) -> bool:
        """Does this statement cover the call: its resources (S3 key, DynamoDB table or stream) and its
        conditions (dynamodb:LeadingKeys against the item's key)? `key` None: any key."""
        if action.startswith("dynamodb:"):
            return self._covers_dynamodb(action, key)
        if self.conditions:  # only dynamodb:LeadingKeys is evaluated; never pass over another condition
            raise ValueError(f"{self.sid}: condition on {self.conditions[0][1]} is not evaluated by this check")
        if key is None or not action.startswith("s3:"):
            return True
        for resource in self.resources:
            if resource == "*":
                return True
            if not resource.startswith(BUCKET_REF):
                continue
            rest = resource[len(BUCKET_REF):]
            if key == "" and rest == "":
                return True  # bucket-level action (ListBucket)
            if key and rest.startswith("/") and fnmatch.fnmatchcase(key, rest[1:]):
                return True
        return False

    def _covers_dynamodb(self, action: str, key: str | None) -> bool:
        wanted = f"{TABLE_REF}/stream/*" if action in STREAM_ACTIONS else TABLE_REF
        if wanted not in self.resources and "*" not in self.resources:
            return False
        for test, variable, values in self.conditions:
            if variable != "dynamodb:LeadingKeys":
                raise ValueError(f"{self.sid}: condition on {variable} is not evaluated by this check")
            if test not in ("ForAllValues:StringEquals", "StringEquals"):
                raise ValueError(f"{self.sid}: condition test {test} is not evaluated by this check")
            if key is None or key not in {CONDITION_VALUES.get(v, v) for v in values}:
                return False
        return True


def _canonical(function: str) -> str:
    function = ALIASES.get(function, function)
    if function not in POLICY_DOCUMENTS:
        raise KeyError(f"unknown function {function!r}; expected one of {sorted(POLICY_DOCUMENTS)}")
    return function


@cache
def statements(function: str) -> tuple[Statement, ...]:
    """The statements of `function`'s policy document, parsed from infra/iam.tf."""
    document = POLICY_DOCUMENTS[_canonical(function)]
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    for path in sorted(INFRA.glob("*.tf")):
        with path.open() as handle:
            parsed = hcl2.load(handle, serialization_options=options)
        for block in parsed.get("data", []):
            body = block.get("aws_iam_policy_document", {}).get(document)
            if body is None:
                continue
            raw = body.get("statement", [])
            raw = raw if isinstance(raw, list) else [raw]
            return tuple(_statement(s) for s in raw)
    raise LookupError(f'data "aws_iam_policy_document" "{document}" not found in {INFRA}/*.tf')


def function_handlers() -> dict[str, str]:
    """Each instance of infra/modules/function in infra/*.tf -> its handler string."""
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    handlers: dict[str, str] = {}
    for path in sorted(INFRA.glob("*.tf")):
        with path.open() as handle:
            parsed = hcl2.load(handle, serialization_options=options)
        for block in parsed.get("module", []):
            for name, body in block.items():
                if body.get("source") == "./modules/function":
                    handlers[name] = body["handler"]
    return handlers


def _statement(raw: dict[str, Any]) -> Statement:
    conditions = raw.get("condition", [])
    conditions = conditions if isinstance(conditions, list) else [conditions]
    return Statement(
        sid=raw.get("sid", ""),
        actions=tuple(raw.get("actions", ())),
        resources=tuple(raw.get("resources", ())),
        effect=raw.get("effect", "Allow"),
        conditions=tuple((c["test"], c["variable"], tuple(c["values"])) for c in conditions),
    )


def iam_action(operation: str) -> str:
    """`s3.HeadObject` -> `s3:GetObject`; `dynamodb.Scan` -> `dynamodb:Scan`."""
    if operation in OPERATION_ACTION:
        return OPERATION_ACTION[operation]
    service, _, name = operation.partition(".")
    if not name:
        raise ValueError(f"operation must be service.OperationName, got {operation!r}")
    return f"{SERVICE_PREFIX.get(service, service)}:{name}"


def allowed(function: str, operation: str, key: str | None = None) -> bool:
    """Is `operation` (botocore name) allowed for `function`'s role? `key` narrows S3 to an object
    key ("" for a bucket-level call); None checks the action on any of the granted resources."""
    action = iam_action(operation)
    stmts = statements(function)
    if any(s.effect == "Deny" and s.grants(action) and s.covers(action, key) for s in stmts):
        return False
    return any(s.effect == "Allow" and s.grants(action) and s.covers(action, key) for s in stmts)


def granted_actions(function: str) -> set[str]:
    return {a for s in statements(function) if s.effect == "Allow" for a in s.actions}


def unused_grants(function: str, operations: list[str] | set[str] | tuple[str, ...]) -> set[str]:
    """IAM actions the policy grants that none of `operations` needs, apart from SERVICE_USED."""
    needed = {iam_action(op).lower() for op in operations}
    exempt = {a.lower() for a in SERVICE_USED[_canonical(function)]}
    return {a for a in granted_actions(function) if a.lower() not in needed and a.lower() not in exempt}
