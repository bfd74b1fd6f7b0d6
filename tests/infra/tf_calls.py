"""The AWS calls a Terraform run made, read from its debug log, as IAM requests (action + resource ARN).

The AWS provider logs every request it sends (`HTTP Request Sent`, with `rpc.service`,
`rpc.method`, the URL and the body) when TF_LOG=DEBUG. Each is turned into the IAM action AWS
authorises it as and the ARN of the resource it names, so a role's policies can be evaluated
against what `terraform plan` really does rather than against a list typed by hand. A request whose
resource cannot be told raises: a call is never passed by being misunderstood.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

PREFIX = {
    "CloudFront": "cloudfront", "CloudWatch": "cloudwatch", "CloudWatch Logs": "logs", "DynamoDB": "dynamodb",
    "IAM": "iam", "KMS": "kms", "Lambda": "lambda", "S3": "s3", "SNS": "sns", "SQS": "sqs", "STS": "sts",
    "Scheduler": "scheduler", "WAFV2": "wafv2",
}
# S3 operations whose IAM action is spelt otherwise (Service Authorization Reference, Amazon S3).
S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "HeadObject": "GetObject",
    "GetBucketCors": "GetBucketCORS",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
}
# Actions AWS gives no resource type: evaluated on "*".
UNSCOPED = {"logs:DescribeLogGroups", "kms:ListAliases", "sts:GetCallerIdentity", "kms:CreateKey"}
# The body of a request the log cut before its name: its resource is not in the log.
ZIP_UPLOAD = "<zip upload>"


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    region: str
    url: str
    body: str
    resource_type: str

    @property
    def action(self) -> str:
        name = S3_ACTIONS.get(self.method, self.method) if self.service == "S3" else self.method
        return f"{PREFIX[self.service]}:{name}"


def calls(log: str) -> list[Call]:
    found = []
    for record in re.split(r"\n(?=\d{4}-\d\d-\d\dT)", log):
        if "HTTP Request Sent" not in record:
            continue
        if "rpc.method" not in record:
            # Logged as JSON and cut at 64 KB inside its body: a function's zip upload (CreateFunction).
            assert "ZipFile" in record, record[:2000]
            found.append(Call("Lambda", "CreateFunction", "us-east-1", "", ZIP_UPLOAD, "aws_lambda_function"))
            continue
        service = re.search(r'rpc\.service=(?:"([^"]+)"|(\S+))', record)
        body = re.search(r'http\.request\.body=(""|\n(?:  \| .*(?:\n|$))+)', record)
        region = re.search(r"aws\.region=(\S+)", record)
        kind = re.search(r"tf_(?:resource|data_source)_type=(\S+)", record)
        found.append(Call(
            service=(service[1] or service[2]) if service else "?",
            method=re.search(r"rpc\.method=(\S+)", record)[1],
            region=region[1] if region and region[1] != "aws-global" else "us-east-1",
            url=next(g for g in re.search(r'http\.url=(?:"([^"]+)"|(\S+))', record).groups() if g),
            body="" if not body or body[1] == '""' else re.sub(r"\n  \| (\[truncated\.\.\.\])?", "", body[1]).strip(),
            resource_type=kind[1] if kind else "",
        ))
    return found


def resource(call: Call, account: str, role_arn: Callable[[str], str]) -> str:
    """The ARN the call acts on, as IAM sees it; `role_arn` maps a role name to its ARN (roles have paths)."""
    if call.action in UNSCOPED:
        return "*"
    path = unquote(urlparse(call.url).path)
    query = parse_qs(urlparse(call.url).query)
    arn = f"arn:aws:{PREFIX[call.service]}:{call.region}:{account}"
    if call.service == "S3":
        return f"arn:aws:s3:::{path.strip('/').split('/')[0]}"
    if call.service == "Lambda":
        if "Resource" in query or "/tags/" in path:
            return path.split("/tags/", 1)[1]
        match = re.search(r"/(functions|event-source-mappings)/([^/]+)", path)
        if match:
            kind = "function" if match[1] == "functions" else "event-source-mapping"
            return f"{arn}:{kind}:{match[2]}"
    if call.service == "CloudFront":
        if "Resource" in query:
            return query["Resource"][0]
        match = re.search(r"/(distribution|origin-access-control|cache-policy|response-headers-policy)/([^/]+)", path)
        if match:
            return f"arn:aws:cloudfront::{account}:{match[1]}/{match[2]}"
    if call.service == "Scheduler":
        match = re.search(r"/schedules/([^/]+)", path)
        if match:
            return f"{arn}:schedule/{query.get('groupName', ['default'])[0]}/{match[1]}"
    if call.service == "CloudFront" and re.search(r"/(distribution|origin-access-control)$", path):
        return f"arn:aws:cloudfront::{account}:{path.rsplit('/', 1)[1]}/new"
    if call.body.startswith("{"):
        fields = _json(call.body)
        fields.update(fields.get("LoggingConfiguration", {}))
        for key in ("ResourceArn", "ResourceARN", "resourceArn"):
            if key in fields:
                return fields[key]
        if "TableName" in fields:
            return f"{arn}:table/{fields['TableName']}"
        if "QueueUrl" in fields:
            return f"{arn}:{fields['QueueUrl'].rstrip('/').rsplit('/', 1)[1]}"
        if "KeyId" in fields:
            key = fields["KeyId"]
            return key if key.startswith("arn:") else f"{arn}:key/{key}"
        if {"Name", "Id", "Scope"} <= set(fields):
            return f"arn:aws:wafv2:us-east-1:{account}:global/webacl/{fields['Name']}/{fields['Id']}"
        if {"Name", "Scope"} <= set(fields):
            return f"arn:aws:wafv2:us-east-1:{account}:global/webacl/{fields['Name']}/new"
        if "AliasName" in fields:
            return f"{arn}:{fields['AliasName']}"
        if "logGroupName" in fields:
            return f"{arn}:log-group:{fields['logGroupName']}"
        if "QueueName" in fields:
            return f"{arn}:{fields['QueueName']}"
        if "FunctionName" in fields and call.method == "CreateFunction":
            return f"{arn}:function:{fields['FunctionName']}"
        if call.method == "CreateEventSourceMapping":
            return f"{arn}:event-source-mapping:new"
    elif call.body:
        fields = {k: v[0] for k, v in parse_qs(call.body).items()}
        for key in ("ResourceArn", "ResourceARN", "TopicArn", "SubscriptionArn"):
            if key in fields:
                return fields[key]
        if "RoleName" in fields:
            return role_arn(fields["RoleName"])
        if "AlarmNames.member.1" in fields and "AlarmNames.member.2" not in fields:
            return f"{arn}:alarm:{fields['AlarmNames.member.1']}"
        if "AlarmName" in fields:
            return f"{arn}:alarm:{fields['AlarmName']}"
        if call.method == "CreateTopic":
            return f"{arn}:{fields['Name']}"
        if "DashboardName" in fields:
            return f"arn:aws:cloudwatch::{account}:dashboard/{fields['DashboardName']}"
    raise ValueError(f"cannot tell the resource of {call.service} {call.method} ({call.url} {call.body[:200]})")


def _json(body: str) -> dict[str, Any]:
    """A JSON body, or the top-level string fields of one the log cut short."""
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return dict(re.findall(r'(?<!\\)"(\w+)":"((?:[^"\\]|\\.)*)"', body))


def fields(call: Call) -> dict[str, Any]:
    if call.body.startswith("{"):
        return _json(call.body)
    return {k: v[0] for k, v in parse_qs(call.body).items()}


def context(call: Call, resource: str, boundary_of: Callable[[str], str | None]) -> dict[str, Any]:
    """The condition keys IAM would see for the call (those this repository's policies test)."""
    body = fields(call)
    if call.action == "iam:CreateRole":
        return {"iam:PermissionsBoundary": body["PermissionsBoundary"]} if "PermissionsBoundary" in body else {}
    if call.action in ("iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"):
        boundary = body.get("PermissionsBoundary") or boundary_of(resource)
        return {"iam:PermissionsBoundary": boundary} if boundary else {}
    if call.action == "lambda:AddPermission":
        return {"lambda:Principal": body["Principal"]}
    if call.action in ("lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"):
        return {"lambda:FunctionUrlAuthType": body["AuthType"]}
    if call.action in ("lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping"):
        name = body["FunctionName"]
        arn = name if name.startswith("arn:") else resource.rsplit(":event-source-mapping:", 1)[0] + f":function:{name}"
        return {"lambda:FunctionArn": arn}
    if call.action in ("kms:CreateKey", "kms:TagResource"):
        tags = json.loads(call.body).get("Tags", [])
        return {**{f"aws:RequestTag/{t['TagKey']}": t["TagValue"] for t in tags},
                "aws:TagKeys": [t["TagKey"] for t in tags]}
    if call.action in ("cloudfront:CreateDistributionWithTags", "cloudfront:TagResource"):
        tags = re.findall(r"<Tag><Key>([^<]*)</Key>(?:<Value>([^<]*)</Value>)?</Tag>", call.body)
        return {**{f"aws:RequestTag/{k}": v for k, v in tags}, "aws:TagKeys": [k for k, _ in tags]}
    return {}


def passed_roles(call: Call) -> list[tuple[str, str]]:
    """The roles a call passes to a service (iam:PassRole is authorised but never logged)."""
    body = fields(call)
    if call.action == "lambda:CreateFunction" and "Role" in body:
        return [(body["Role"], "lambda.amazonaws.com")]
    if call.action in ("scheduler:CreateSchedule", "scheduler:UpdateSchedule"):
        return [(json.loads(call.body)["Target"]["RoleArn"], "scheduler.amazonaws.com")]
    return []
