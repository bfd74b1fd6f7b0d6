"""The check `make deploy` runs on its plan: no resource policy, trust or permission lets anyone outside in."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from .conftest import LocalStack
from .iam_eval import ALLOW, Request, decide
from .planned_policies import findings

pytestmark = pytest.mark.infra

ACCOUNT = "123456789012"
DISTRIBUTION = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2ABCDEF"
OUTSIDER = "arn:aws:iam::999999999999:root"


def plan(*resources: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A `terraform show -json` plan holding these (type, values) resources."""
    return {"planned_values": {"root_module": {"resources": [
        {"address": f"{kind}.r{i}", "type": kind, "values": values} for i, (kind, values) in enumerate(resources)
    ]}}}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


CLOUDFRONT_READS = {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::site/*", "Condition": {"StringEquals": {"aws:SourceArn": DISTRIBUTION}}}
LAMBDA_TRUST = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}


def test_the_stacks_own_documents_pass() -> None:
    assert findings(plan(
        ("aws_s3_bucket_policy", {"policy": policy(CLOUDFRONT_READS)}),
        ("aws_iam_role", {"assume_role_policy": policy(LAMBDA_TRUST)}),
        ("aws_s3_bucket_public_access_block", dict.fromkeys(
            ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"), True)),
        ("aws_lambda_permission", {"principal": "cloudfront.amazonaws.com", "source_arn": DISTRIBUTION}),
    )) == []


@pytest.mark.parametrize(("kind", "values", "says"), [
    ("aws_s3_bucket_policy", {"policy": policy({**CLOUDFRONT_READS, "Principal": {"AWS": OUTSIDER}, "Condition": {}})},
     "another account is allowed s3:GetObject"),
    ("aws_s3_bucket_policy", {"policy": policy({**CLOUDFRONT_READS, "Principal": "*", "Condition": {}})},
     "anyone is allowed"),
    # CloudFront without the distribution condition: any account's distribution could read.
    ("aws_s3_bucket_policy", {"policy": policy({**CLOUDFRONT_READS, "Condition": {}})},
     "cloudfront.amazonaws.com for another account"),
    ("aws_sqs_queue", {"policy": policy({"Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "sqs:*",
                                         "Resource": "*"})}, "another account is allowed sqs:"),
    ("aws_sns_topic_policy", {"policy": policy({"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe",
                                                "Resource": "*"})}, "anyone is allowed sns:Subscribe"),
    ("aws_kms_key", {"policy": policy({"Effect": "Allow", "Principal": {"AWS": [OUTSIDER]}, "Action": "kms:Decrypt",
                                       "Resource": "*"})}, "another account is allowed kms:Decrypt"),
    ("aws_iam_role", {"assume_role_policy": policy({**LAMBDA_TRUST, "Principal": {"AWS": OUTSIDER}, "Condition": {}})},
     "another account is allowed sts:AssumeRole"),
    ("aws_iam_role", {"assume_role_policy": policy({**LAMBDA_TRUST, "Condition": {}})},
     "lambda.amazonaws.com for another account"),
    ("aws_s3_bucket_public_access_block", {"block_public_acls": True, "block_public_policy": False,
                                           "ignore_public_acls": True, "restrict_public_buckets": True},
     "block_public_policy"),
    ("aws_lambda_permission", {"principal": "*"}, "permission for '*'"),
    ("aws_lambda_permission", {"principal": "cloudfront.amazonaws.com",
                               "source_arn": "arn:aws:cloudfront::999999999999:distribution/EOTHER",
                               "source_account": ACCOUNT}, "not pinned"),
    ("aws_lambda_permission", {"principal": "cloudfront.amazonaws.com"}, "not pinned"),
    ("aws_lambda_function_url", {"authorization_type": "NONE"}, "without AWS_IAM"),
    ("aws_dynamodb_resource_policy", {"policy": "{}"}, "not part of this stack"),
    ("aws_s3_bucket_acl", {"acl": "public-read"}, "not part of this stack"),
])
def test_a_way_in_for_an_outsider_is_a_finding(kind: str, values: dict[str, Any], says: str) -> None:
    found = findings(plan((kind, values)))
    assert found and any(says in line for line in found), found


def test_a_permission_for_the_distribution_the_plan_creates_passes_by_its_reference() -> None:
    """On the first apply the distribution's ARN is unknown in the plan: the configuration names it."""
    document = plan(("aws_lambda_permission", {"principal": "cloudfront.amazonaws.com"}))
    document["configuration"] = {"root_module": {"resources": [{"address": "aws_lambda_permission.r0", "expressions": {
        "source_arn": {"references": ["aws_cloudfront_distribution.this.arn", "aws_cloudfront_distribution.this"]}}}]}}
    assert findings(document) == []


def test_the_applied_stack_lets_no_one_outside_in(local_stack: LocalStack, terraform: str,
                                                  tf_env: dict[str, str]) -> None:
    """The emulator apply's state, as `terraform show -json` gives it: the same check as a plan."""
    proc = subprocess.run([terraform, "show", "-json"], cwd=local_stack.workdir, env=tf_env, capture_output=True,
                          text=True, timeout=120, check=True)
    document = json.loads(proc.stdout)
    kinds = {r["type"] for m in [document["values"]["root_module"], *document["values"]["root_module"].get(
        "child_modules", [])] for r in m.get("resources", [])}
    assert {"aws_s3_bucket_policy", "aws_kms_key", "aws_iam_role", "aws_lambda_permission",
            "aws_s3_bucket_public_access_block"} <= kinds
    assert findings(document) == []


def test_the_deployed_key_serves_only_this_stacks_log_groups_bucket_and_alarms(local_stack: LocalStack) -> None:
    """The key policy's service grants, as deployed, evaluated: this stack's encryption context or
    source, allowed; another log group, bucket or alarm of the same account, refused."""
    kms = local_stack.client("kms")
    key = kms.describe_key(KeyId="alias/llm-catalogue")["KeyMetadata"]["Arn"]
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    bucket = f"arn:aws:s3:::{local_stack.outputs['site_bucket']}"
    logs = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:"
    cloudfront = {"aws:SourceArn": DISTRIBUTION}
    alarm = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:"
    cases = [
        ("logs.us-east-1.amazonaws.com", "kms:GenerateDataKey",
         {"kms:EncryptionContext:aws:logs:arn": f"{logs}/aws/lambda/llm-catalogue-publisher"}, True),
        ("logs.us-east-1.amazonaws.com", "kms:GenerateDataKey",
         {"kms:EncryptionContext:aws:logs:arn": f"{logs}aws-waf-logs-llm-catalogue"}, True),
        ("logs.us-east-1.amazonaws.com", "kms:Decrypt",
         {"kms:EncryptionContext:aws:logs:arn": f"{logs}/aws/lambda/payroll"}, False),
        ("logs.us-east-1.amazonaws.com", "kms:Decrypt",
         {"kms:EncryptionContext:aws:logs:arn": f"{logs}/aws/lambda/llm-catalogue-prod-publisher"}, False),
        ("cloudfront.amazonaws.com", "kms:Decrypt", {**cloudfront, "kms:EncryptionContext:aws:s3:arn": bucket}, True),
        ("cloudfront.amazonaws.com", "kms:Decrypt",
         {**cloudfront, "kms:EncryptionContext:aws:s3:arn": f"{bucket}/llms.json"}, True),
        ("cloudfront.amazonaws.com", "kms:Decrypt",
         {**cloudfront, "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::payroll-bucket"}, False),
        ("cloudwatch.amazonaws.com", "kms:GenerateDataKey",
         {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"{alarm}llm-catalogue-x"}, True),
        ("cloudwatch.amazonaws.com", "kms:GenerateDataKey",
         {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"{alarm}payroll-x"}, False),
    ]
    for service, action, context, expected in cases:
        decision = decide(policy, Request(action, "*", context, {"Service": service}), resource_policy=True)
        assert (decision == ALLOW) is expected, (service, action, context)
