"""What IAM cannot refuse the deploy role, refused before apply: no resource policy lets anyone outside in.

IAM has no condition key for the content of a bucket, queue or topic policy, a public access block,
a new role's trust policy or a CloudFront permission's source ARN, so the deploy role's denies
(infra/bootstrap/roles.tf) cannot cover them. This reads a Terraform plan or state as JSON
(`terraform show -json`) and evaluates every such document with tests/infra/iam_eval.py, as a
principal of another account, anyone, and an AWS service acting for another account would ask.
`make deploy` runs it on the plan it then applies, so a change that opens the stack stops there.

    python -m tests.infra.planned_policies tfplan.json     # exit 1 and one line per finding
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .iam_eval import ALLOW, Request, decide

OUTSIDER_ACCOUNT = "999999999999"
# The documents that hold a resource-based policy, and the attribute it is in.
POLICY_ATTRIBUTES = {
    "aws_s3_bucket_policy": "policy", "aws_sqs_queue_policy": "policy", "aws_sqs_queue": "policy",
    "aws_sns_topic_policy": "policy", "aws_sns_topic": "policy", "aws_kms_key": "policy",
    "aws_iam_role": "assume_role_policy",
}
# Never in this stack: a resource policy on the table, an access point, an ACL, a layer permission.
FORBIDDEN = ("aws_dynamodb_resource_policy", "aws_s3_access_point", "aws_lambda_layer_version_permission",
             "aws_s3_bucket_acl")


def resources(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every resource of a plan (`planned_values`) or a state (`values`), child modules included."""
    root = (document.get("planned_values") or document.get("values") or {}).get("root_module", {})
    stack = [root]
    while stack:
        module = stack.pop()
        yield from module.get("resources", [])
        stack.extend(module.get("child_modules", []))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _requests(policy: dict[str, Any]) -> set[tuple[str, str]]:
    """Each (action, resource) the policy's statements name, wildcards made concrete."""
    found: set[tuple[str, str]] = set()
    for statement in _listed(policy.get("Statement", [])):
        for action in _listed(statement.get("Action", [])):
            for resource in _listed(statement.get("Resource", "*")):
                concrete = resource if resource == "*" else resource.replace("*", "x")
                found.add((action.replace("*", "Anything"), concrete))
    return found


def _askers() -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    """Who must be refused: another account, anyone, and services acting for another account."""
    foreign = {"aws:SourceAccount": OUTSIDER_ACCOUNT, "aws:PrincipalAccount": OUTSIDER_ACCOUNT,
               "aws:SourceArn": f"arn:aws:cloudfront::{OUTSIDER_ACCOUNT}:distribution/EOUTSIDE",
               "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::someone-elses-bucket",
               "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{OUTSIDER_ACCOUNT}:log-group:x"}
    services = ["cloudfront.amazonaws.com", "lambda.amazonaws.com", "scheduler.amazonaws.com",
                "logs.us-east-1.amazonaws.com", "cloudwatch.amazonaws.com", "sns.amazonaws.com"]
    # A caller that is not a service sends no aws:Source* keys; it cannot set them either.
    caller = {"aws:PrincipalAccount": OUTSIDER_ACCOUNT, "aws:SecureTransport": "true"}
    return [
        ("another account", {"AWS": f"arn:aws:iam::{OUTSIDER_ACCOUNT}:root"}, caller),
        ("anyone", {"AWS": "*"}, caller),
        *[(f"{s} for another account", {"Service": s}, foreign) for s in services],
    ]


def findings(document: dict[str, Any]) -> list[str]:
    """One line per way in for a principal outside the account, from a plan or state JSON."""
    found: list[str] = []
    for resource in resources(document):
        kind, address, values = resource["type"], resource["address"], resource.get("values") or {}
        if kind in FORBIDDEN:
            found.append(f"{address}: a {kind} is not part of this stack")
        if kind == "aws_s3_bucket_public_access_block":
            off = [k for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                               "restrict_public_buckets") if values.get(k) is not True]
            if off:
                found.append(f"{address}: public access not blocked ({', '.join(off)})")
        if kind == "aws_lambda_function_url" and values.get("authorization_type") != "AWS_IAM":
            found.append(f"{address}: function URL without AWS_IAM auth")
        if kind == "aws_lambda_permission":
            found.extend(_permission(address, values, _references(document, address, "source_arn")))
        attribute = POLICY_ATTRIBUTES.get(kind)
        text = values.get(attribute) if attribute else None
        if not text:
            continue
        policy = json.loads(text) if isinstance(text, str) else text
        for who, principal, context in _askers():
            for action, resource_arn in sorted(_requests(policy)):
                if decide(policy, Request(action, resource_arn, context, principal), resource_policy=True) == ALLOW:
                    found.append(f"{address}: {who} is allowed {action} on {resource_arn}")
    return found


def _references(document: dict[str, Any], address: str, attribute: str) -> list[str]:
    """What a resource's attribute refers to in the configuration (a plan's value not known yet)."""
    stack = [document.get("configuration", {}).get("root_module", {})]
    while stack:
        module = stack.pop()
        for resource in module.get("resources", []):
            if address.split("[")[0].endswith(resource["address"]):
                return resource.get("expressions", {}).get(attribute, {}).get("references", [])
        stack.extend(call.get("module", {}) for call in module.get("module_calls", {}).values())
    return []


def _permission(address: str, values: dict[str, Any], references: list[str]) -> list[str]:
    """A function's resource policy: CloudFront only, for one of this account's distributions (in a
    plan that creates the distribution, the ARN is not known yet: then the reference must be it)."""
    principal, source = values.get("principal"), values.get("source_arn") or ""
    if principal != "cloudfront.amazonaws.com":
        return [f"{address}: a function permission for {principal!r}"]
    if not source and "aws_cloudfront_distribution.this.arn" in references:
        return []
    if not re.fullmatch(r"arn:aws[\w-]*:cloudfront::\d{12}:distribution/[A-Z0-9]+", source) \
            or (values.get("source_account") not in (None, "") and values["source_account"] not in source):
        return [f"{address}: a CloudFront permission not pinned to one distribution of this account ({source!r})"]
    return []


def main(argv: list[str]) -> int:
    document = json.loads(Path(argv[0]).read_text())
    problems = findings(document)
    for line in problems:
        print(f"planned_policies: {line}", file=sys.stderr)
    print(f"planned_policies: {len(problems)} finding(s) in {sum(1 for _ in resources(document))} resources")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
