"""The delivery pipeline cannot escalate: infra/bootstrap's policies, rendered by terraform plan, evaluated.

The bootstrap stack is planned against our moto server (for the caller identity only; nothing is
applied), its JSON plan gives every policy document exactly as AWS would receive it, and
tests/infra/iam_eval.py evaluates requests against them: identity policy + permissions boundary
for the deploy and plan roles, trust policies for GitHub's OIDC tokens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import tf_calls
from .conftest import APPLY_LOG, REPO, SCRIPTS, LocalStack
from .iam_eval import ALLOW, DENY, IMPLICIT, Request, allowed, decide, evaluate

pytestmark = pytest.mark.infra

ACCOUNT = "123456789012"  # moto's
REPOSITORY = "example-org/llm-catalogue"
NAME = "llm-catalogue"
IAM = f"arn:aws:iam::{ACCOUNT}"
SERVICE_ROLE = f"{IAM}:role/{NAME}/{NAME}-read-api-role"
DEPLOY_ROLE = f"{IAM}:role/{NAME}-pipeline/{NAME}-github-deploy"
PLAN_ROLE = f"{IAM}:role/{NAME}-pipeline/{NAME}-github-plan"
SERVICE_BOUNDARY = f"{IAM}:policy/{NAME}-pipeline/{NAME}-service-boundary"
PIPELINE_BOUNDARY = f"{IAM}:policy/{NAME}-pipeline/{NAME}-pipeline-boundary"
LAMBDA = f"arn:aws:lambda:us-east-1:{ACCOUNT}"
STATE_BUCKET = f"arn:aws:s3:::{NAME}-tfstate-{ACCOUNT}"
OIDC = "token.actions.githubusercontent.com"
WORKFLOW = f"{REPOSITORY}/.github/workflows/ci.yml"

OVERRIDE = """
provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    iam = "%(endpoint)s"
    s3  = "%(endpoint)s"
    sts = "%(endpoint)s"
  }
}
"""


@pytest.fixture(scope="module")
def bootstrap(terraform: str, tf_env: dict[str, str], moto_endpoint: str,
              scratch_copy: Callable[[Path], Path]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`terraform <args>` in an initialised scratch copy of infra/bootstrap (against moto)."""
    workdir = scratch_copy(REPO / "infra" / "bootstrap")
    (workdir / "providers_override.tf").write_text(OVERRIDE % {"endpoint": moto_endpoint})
    env = {**tf_env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_PROFILE", None)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([terraform, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 or not check, \
            f"terraform {args[0]} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        return proc

    run("init", "-backend=false", "-input=false", "-no-color", "-lockfile=readonly")
    return run


def planned_policies(run: Callable[..., subprocess.CompletedProcess[str]], name: str = NAME,
                     *variables: str) -> dict[str, Any]:
    """Every policy document of infra/bootstrap for a stack called `name`, as `terraform plan` renders it."""
    out = f"{name}-{len(variables)}.bin"
    run("plan", "-input=false", "-no-color", "-refresh=false", f"-out={out}",
        f"-var=github_repository={REPOSITORY}", f"-var=name={name}", *(f"-var={v}" for v in variables))
    plan = json.loads(run("show", "-json", out).stdout)
    values = {r["address"]: r.get("values", {}) for r in plan["planned_values"]["root_module"]["resources"]}
    return {
        "deploy": json.loads(values["aws_iam_role_policy.deploy"]["policy"]),
        "plan": json.loads(values["aws_iam_role_policy.plan"]["policy"]),
        "deploy_trust": json.loads(values["aws_iam_role.deploy"]["assume_role_policy"]),
        "plan_trust": json.loads(values["aws_iam_role.plan"]["assume_role_policy"]),
        "service_boundary": json.loads(values["aws_iam_policy.service_boundary"]["policy"]),
        "pipeline_boundary": json.loads(values["aws_iam_policy.pipeline_boundary"]["policy"]),
        "roles": {a: v for a, v in values.items() if a.startswith("aws_iam_role.")},
    }


@pytest.fixture(scope="module")
def policies(bootstrap: Callable[..., subprocess.CompletedProcess[str]]) -> dict[str, Any]:
    return planned_policies(bootstrap)


def deploy_may(policies: dict[str, Any], action: str, resource: str, **context: str) -> str:
    return evaluate(Request(action, resource, context), identity=[policies["deploy"]],
                    boundary=policies["pipeline_boundary"])


def test_pipeline_roles_live_apart_and_carry_the_boundary(policies: dict[str, Any]) -> None:
    for address in ("aws_iam_role.deploy", "aws_iam_role.plan"):
        role = policies["roles"][address]
        assert role["path"] == f"/{NAME}-pipeline/"
        assert role["permissions_boundary"] == PIPELINE_BOUNDARY
    for document in (policies["deploy"], policies["plan"]):
        attached = json.dumps(document)
        assert "ReadOnlyAccess" not in attached and "AdministratorAccess" not in attached


@pytest.mark.parametrize("target", [DEPLOY_ROLE, PLAN_ROLE])
@pytest.mark.parametrize("action", [
    "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary", "iam:DeleteRole", "iam:UpdateRole", "iam:TagRole", "iam:PassRole",
])
def test_deploy_role_cannot_touch_a_pipeline_role(policies: dict[str, Any], target: str, action: str) -> None:
    # Even with the service boundary named in the request, as a forged CreateRole would.
    assert deploy_may(policies, action, target, **{"iam:PermissionsBoundary": SERVICE_BOUNDARY}) == DENY


@pytest.mark.parametrize("boundary", [None, PIPELINE_BOUNDARY, f"{IAM}:policy/AdministratorAccess"])
@pytest.mark.parametrize("action", ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                                    "iam:PutRolePermissionsBoundary"])
def test_deploy_role_cannot_create_or_edit_a_role_without_the_service_boundary(
    policies: dict[str, Any], action: str, boundary: str | None
) -> None:
    context = {} if boundary is None else {"iam:PermissionsBoundary": boundary}
    for role in (SERVICE_ROLE, f"{IAM}:role/anything-else"):
        assert deploy_may(policies, action, role, **context) == DENY, (action, role, boundary)


@pytest.mark.parametrize("action", ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
                                    "iam:DeletePolicyVersion", "iam:CreatePolicy"])
@pytest.mark.parametrize("policy", [SERVICE_BOUNDARY, PIPELINE_BOUNDARY])
def test_deploy_role_cannot_edit_a_boundary(policies: dict[str, Any], action: str, policy: str) -> None:
    assert deploy_may(policies, action, policy) == DENY


@pytest.mark.parametrize(("action", "resource"), [
    ("iam:CreateUser", f"{IAM}:user/backdoor"), ("iam:CreateAccessKey", f"{IAM}:user/backdoor"),
    ("iam:AttachRolePolicy", SERVICE_ROLE), ("sts:AssumeRole", DEPLOY_ROLE),
    ("ec2:RunInstances", "*"), ("organizations:LeaveOrganization", "*"),
])
def test_deploy_role_has_no_other_way_up(policies: dict[str, Any], action: str, resource: str) -> None:
    context = {"iam:PermissionsBoundary": SERVICE_BOUNDARY}
    assert deploy_may(policies, action, resource, **context) != ALLOW


@pytest.mark.parametrize(("service", "expected"), [
    ("lambda.amazonaws.com", ALLOW), ("scheduler.amazonaws.com", ALLOW), ("ec2.amazonaws.com", "ImplicitDeny"),
])
def test_deploy_role_passes_service_roles_only_to_lambda_and_scheduler(
    policies: dict[str, Any], service: str, expected: str
) -> None:
    assert deploy_may(policies, "iam:PassRole", SERVICE_ROLE, **{"iam:PassedToService": service}) == expected
    assert deploy_may(policies, "iam:PassRole", f"{IAM}:role/other-team-admin",
                      **{"iam:PassedToService": service}) != ALLOW


def test_kms_tags_grant_nothing(policies: dict[str, Any]) -> None:
    foreign_key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    tagged = {"aws:ResourceTag/service": NAME, "aws:RequestTag/service": NAME}
    for action in ("kms:Decrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateGrant"):
        assert deploy_may(policies, action, foreign_key, **tagged) != ALLOW, action
    assert deploy_may(policies, "kms:CreateKey", "*", **{"aws:RequestTag/service": NAME}) == ALLOW
    assert deploy_may(policies, "kms:CreateKey", "*", **{"aws:RequestTag/service": "other"}) != ALLOW


@pytest.mark.parametrize(("aliases", "expected"), [
    ([f"alias/{NAME}"], ALLOW), ([f"alias/{NAME}-edge"], ALLOW), ([], IMPLICIT), (["alias/payroll"], IMPLICIT),
    (["alias/payroll", f"alias/{NAME}"], ALLOW),
])
def test_service_roles_use_only_keys_with_the_stacks_alias(policies: dict[str, Any], aliases: list[str],
                                                           expected: str) -> None:
    """A role the deploy role writes (and runs through a function it deploys) is capped by the service
    boundary: it may not decrypt with another key of the account, whatever its own policy says."""
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    own_policy = {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        request = Request(action, key, {"kms:ResourceAliases": aliases})
        assert evaluate(request, identity=[own_policy], boundary=policies["service_boundary"]) == expected


def test_deploy_role_cannot_give_a_foreign_key_the_stacks_alias(policies: dict[str, Any]) -> None:
    """KMS authorises an alias change on the key too; the deploy role holds no IAM grant on any key (its
    own key's policy names it), so it cannot alias another key into the service boundary's reach."""
    foreign_key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    stack_alias = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/{NAME}"
    for action in ("kms:CreateAlias", "kms:UpdateAlias"):
        assert deploy_may(policies, action, stack_alias) == ALLOW, action
        assert deploy_may(policies, action, foreign_key) != ALLOW, action


def test_deploy_role_cannot_open_a_public_path_to_a_function(policies: dict[str, Any]) -> None:
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{NAME}-read-api"
    assert deploy_may(policies, "lambda:AddPermission", function, **{"lambda:Principal": "*"}) == DENY
    assert deploy_may(policies, "lambda:AddPermission", function,
                      **{"lambda:Principal": "cloudfront.amazonaws.com"}) == ALLOW
    assert deploy_may(policies, "lambda:CreateFunctionUrlConfig", function,
                      **{"lambda:FunctionUrlAuthType": "NONE"}) == DENY
    assert deploy_may(policies, "lambda:CreateFunctionUrlConfig", function,
                      **{"lambda:FunctionUrlAuthType": "AWS_IAM"}) == ALLOW


@pytest.mark.parametrize(("action", "resource", "context"), [
    ("iam:CreateRole", SERVICE_ROLE, {"iam:PermissionsBoundary": SERVICE_BOUNDARY}),
    ("iam:PutRolePolicy", SERVICE_ROLE, {"iam:PermissionsBoundary": SERVICE_BOUNDARY}),
    ("iam:GetRole", SERVICE_ROLE, {}),
    ("lambda:CreateFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{NAME}-publisher", {}),
    ("lambda:CreateEventSourceMapping", "*", {"lambda:FunctionArn": f"{LAMBDA}:function:{NAME}-publisher"}),
    ("s3:PutObject", f"{STATE_BUCKET}/llm-catalogue/terraform.tfstate", {}),
    ("s3:PutBucketPolicy", f"arn:aws:s3:::{NAME}-site-{ACCOUNT}", {}),
    ("dynamodb:UpdateTable", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/llm_scores", {}),
    ("cloudfront:UpdateDistribution", f"arn:aws:cloudfront::{ACCOUNT}:distribution/E123",
     {"aws:ResourceTag/service": NAME}),
    ("cloudfront:CreateDistributionWithTags", f"arn:aws:cloudfront::{ACCOUNT}:distribution/new",
     {"aws:RequestTag/service": NAME, "aws:TagKeys": ["service", "managed_by"]}),
    ("cloudfront:CreateCachePolicy", f"arn:aws:cloudfront::{ACCOUNT}:cache-policy/abc", {}),
    ("cloudfront:CreateResponseHeadersPolicy", f"arn:aws:cloudfront::{ACCOUNT}:response-headers-policy/abc", {}),
    ("cloudfront:UpdateResponseHeadersPolicy", f"arn:aws:cloudfront::{ACCOUNT}:response-headers-policy/abc", {}),
    ("s3:PutBucketCORS", f"arn:aws:s3:::{NAME}-site-{ACCOUNT}", {}),
    ("wafv2:UpdateWebACL", f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/{NAME}-edge/abc", {}),
    ("logs:PutRetentionPolicy", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/{NAME}-publisher", {}),
    ("scheduler:UpdateSchedule", f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/{NAME}-reconcile", {}),
    ("cloudwatch:PutMetricAlarm", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{NAME}-publisher-errors", {}),
    ("cloudwatch:PutCompositeAlarm", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{NAME}-freshness-fast-burn", {}),
    ("lambda:PutFunctionEventInvokeConfig", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{NAME}-canary", {}),
    ("scheduler:CreateSchedule", f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/{NAME}-canary", {}),
    ("sns:CreateTopic", f"arn:aws:sns:us-east-1:{ACCOUNT}:{NAME}-tickets", {}),
    ("sns:Unsubscribe", f"arn:aws:sns:us-east-1:{ACCOUNT}:{NAME}-alarms:0f1e2d3c", {}),
])
def test_deploy_role_can_still_apply_the_stack(policies: dict[str, Any], action: str, resource: str,
                                               context: dict[str, str]) -> None:
    assert deploy_may(policies, action, resource, **context) == ALLOW


@pytest.mark.parametrize(("action", "resource", "expected"), [
    ("s3:GetObject", f"{STATE_BUCKET}/llm-catalogue/terraform.tfstate", True),
    # A pull request's plan runs with -lock=false: it cannot take or break a running apply's lock.
    ("s3:PutObject", f"{STATE_BUCKET}/llm-catalogue/terraform.tfstate.tflock", False),
    ("s3:DeleteObject", f"{STATE_BUCKET}/llm-catalogue/terraform.tfstate.tflock", False),
    ("s3:PutObject", f"{STATE_BUCKET}/llm-catalogue/terraform.tfstate", False),
    ("s3:GetObject", f"{STATE_BUCKET}/someone-else/terraform.tfstate", False),
    ("dynamodb:DescribeTable", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/llm_scores", True),
    ("dynamodb:Scan", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/llm_scores", False),
    ("s3:GetBucketPolicy", f"arn:aws:s3:::{NAME}-site-{ACCOUNT}", True),
    ("s3:GetBucketCORS", f"arn:aws:s3:::{NAME}-site-{ACCOUNT}", True),
    ("cloudfront:GetResponseHeadersPolicy", f"arn:aws:cloudfront::{ACCOUNT}:response-headers-policy/abc", True),
    ("s3:GetObject", f"arn:aws:s3:::{NAME}-site-{ACCOUNT}/internal/state.json", False),
    ("s3:GetObject", "arn:aws:s3:::payroll-bucket/salaries.csv", False),
    ("lambda:GetFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{NAME}-publisher", True),
    ("lambda:GetFunctionEventInvokeConfig", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{NAME}-canary", True),
    ("lambda:GetFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:billing", False),
    ("logs:GetLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/{NAME}-publisher:*", False),
    ("iam:GetRole", SERVICE_ROLE, True),
    ("secretsmanager:GetSecretValue", "*", False),
    ("lambda:UpdateFunctionCode", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{NAME}-publisher", False),
    # No subscription of the stack's own topics either: their endpoints are on-call's e-mail addresses
    # (an e-mail subscription's ARN is its topic's and an ID).
    ("sns:GetTopicAttributes", f"arn:aws:sns:us-east-1:{ACCOUNT}:{NAME}-alarms", True),
    ("sns:GetSubscriptionAttributes", f"arn:aws:sns:us-east-1:{ACCOUNT}:{NAME}-alarms:0f1e2d3c", False),
    ("sns:ListSubscriptionsByTopic", f"arn:aws:sns:us-east-1:{ACCOUNT}:{NAME}-alarms", False),
    ("sns:GetSubscriptionAttributes", f"arn:aws:sns:us-east-1:{ACCOUNT}:{NAME}-prod-alarms:0f1e2d3c", False),
])
def test_plan_role_reads_only_this_stack(policies: dict[str, Any], action: str, resource: str,
                                         expected: bool) -> None:
    result = allowed(Request(action, resource), identity=[policies["plan"]], boundary=policies["pipeline_boundary"])
    assert result is expected


# Calls `terraform plan` makes that the plan role need not be granted, each with its reason.
NEEDS_NO_GRANT = {
    # The provider asks who it runs as; a role session is refused and it uses sts:GetCallerIdentity.
    ("iam:GetUser", ""),
    # Allowed to every principal; IAM cannot deny it.
    ("sts:GetCallerIdentity", ""),
    # terraform-provider-aws clearSSEDefaultKey: compares the table's key with AWS's default DynamoDB
    # key and ignores an error (the table uses the stack's key, so the answer changes nothing).
    ("kms:DescribeKey", "alias/aws/dynamodb"),
}


@pytest.fixture(scope="module")
def plan_calls(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> list[tf_calls.Call]:
    """The AWS calls of `terraform plan` of the deployed stack, from the provider's debug log."""
    log = tmp_path_factory.mktemp("plan-log") / "plan.log"
    env = {**os.environ, "TF_LOG": "DEBUG", "TF_LOG_PATH": str(log)}
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "infra_local.py"), "--endpoint", local_stack.endpoint, "--workdir",
         str(local_stack.workdir), "--dist", str(local_stack.dist), "--no-start", "--plan", "--quiet"],
        env=env, capture_output=True, text=True, timeout=420,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    made = tf_calls.calls(log.read_text())
    services = {call.service for call in made}
    assert {"S3", "Lambda", "DynamoDB", "CloudFront", "WAFV2", "KMS", "IAM", "CloudWatch"} <= services, services
    return made


def refused(made: list[tf_calls.Call], policies: dict[str, Any], role: str, role_arn: str,
            local_stack: LocalStack) -> set[tuple[str, str, str]]:
    """The calls the role may not make: identity policy, pipeline boundary, and for KMS the key's policy."""
    iam, kms = local_stack.client("iam"), local_stack.client("kms")

    def service_role_arn(name: str) -> str:
        return iam.get_role(RoleName=name)["Role"]["Arn"]

    def boundary_of(arn: str) -> str | None:
        role_detail = iam.get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]
        return role_detail.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")

    def decision(request: Request) -> str:
        key_policy = None
        if request.action.startswith("kms:") and ":key/" in request.resource:
            key_policy = json.loads(kms.get_key_policy(KeyId=request.resource, PolicyName="default")["Policy"])
        # Every resource of the applied stack carries its tag (the provider's default_tags); a call
        # that creates one has none yet.
        tagged = {} if request.action.split(":")[1].startswith("Create") else {"aws:ResourceTag/service": NAME}
        request = Request(request.action, request.resource, {**tagged, **request.context}, {"AWS": role_arn})
        return evaluate(request, identity=[policies[role]], boundary=policies["pipeline_boundary"],
                        resource=key_policy)

    denied = set()
    for call in made:
        if (call.action, "") in NEEDS_NO_GRANT or any(a == call.action and k and k in call.body
                                                         for a, k in NEEDS_NO_GRANT):
            continue
        if call.body == tf_calls.ZIP_UPLOAD:
            continue  # its name was cut from the log; the deployed functions are checked by name below
        resource = tf_calls.resource(call, ACCOUNT, service_role_arn)
        requests = [Request(call.action, resource, tf_calls.context(call, resource, boundary_of))]
        requests += [Request("iam:PassRole", passed, {"iam:PassedToService": service})
                     for passed, service in tf_calls.passed_roles(call)]
        denied |= {(r.action, r.resource, d) for r in requests if (d := decision(r)) != ALLOW}
    return denied


@pytest.mark.parametrize(("role", "role_arn"), [("plan", PLAN_ROLE), ("deploy", DEPLOY_ROLE)])
def test_pipeline_role_allows_every_call_terraform_plan_makes(policies: dict[str, Any], local_stack: LocalStack,
                                                              plan_calls: list[tf_calls.Call], role: str,
                                                              role_arn: str) -> None:
    """Each call a plan of the applied stack made: the plan role can run `terraform plan`, and the
    deploy role's apply can refresh what it manages."""
    assert not refused(plan_calls, policies, role, role_arn, local_stack)


def test_deploy_role_allows_every_call_the_apply_makes(policies: dict[str, Any], local_stack: LocalStack) -> None:
    """Each call of the emulator apply (its provider debug log), with the condition keys its request
    carries, evaluated for the deploy role: `terraform apply` of infra/ runs under it."""
    made = tf_calls.calls((local_stack.workdir / APPLY_LOG).read_text())
    assert {"iam:CreateRole", "iam:PutRolePolicy", "kms:CreateKey", "lambda:AddPermission",
            "lambda:CreateFunctionUrlConfig", "cloudfront:CreateDistributionWithTags"} <= {c.action for c in made}
    denied = refused(made, policies, "deploy", DEPLOY_ROLE, local_stack)
    # Zip uploads whose names the log cut: every deployed function, created under its role.
    lam = local_stack.client("lambda")
    for function in lam.list_functions()["Functions"]:
        for request in (Request("lambda:CreateFunction", function["FunctionArn"]),
                        Request("iam:PassRole", function["Role"], {"iam:PassedToService": "lambda.amazonaws.com"})):
            if deploy_may(policies, request.action, request.resource, **request.context) != ALLOW:
                denied.add((request.action, request.resource, "refused"))
    assert not denied, sorted(denied)


def listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def github_token(sub: str) -> Request:
    return Request("sts:AssumeRoleWithWebIdentity", "*", {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": sub},
                   {"Federated": f"{IAM}:oidc-provider/{OIDC}"})


@pytest.mark.parametrize(("sub", "expected"), [
    (f"repo:{REPOSITORY}:environment:production:job_workflow_ref:{WORKFLOW}@refs/heads/main", True),
    # The default subject (customisation not applied): refused, the restriction fails closed.
    (f"repo:{REPOSITORY}:environment:production", False),
    (f"repo:{REPOSITORY}:environment:production:job_workflow_ref:{WORKFLOW}@refs/heads/feature", False),
    (f"repo:{REPOSITORY}:environment:production:job_workflow_ref:{REPOSITORY}/.github/workflows/evil.yml"
     "@refs/heads/main", False),
    (f"repo:{REPOSITORY}:pull_request:job_workflow_ref:{WORKFLOW}@refs/pull/7/merge", False),
    ("repo:someone/fork:environment:production:job_workflow_ref:someone/fork/.github/workflows/ci.yml"
     "@refs/heads/main", False),
])
def test_deploy_trust_requires_environment_ref_and_workflow(policies: dict[str, Any], sub: str,
                                                            expected: bool) -> None:
    assert (decide(policies["deploy_trust"], github_token(sub), resource_policy=True) == ALLOW) is expected


@pytest.mark.parametrize(("sub", "expected"), [
    (f"repo:{REPOSITORY}:pull_request:job_workflow_ref:{WORKFLOW}@refs/pull/7/merge", True),
    (f"repo:{REPOSITORY}:pull_request", False),
    (f"repo:{REPOSITORY}:environment:production:job_workflow_ref:{WORKFLOW}@refs/heads/main", False),
    (f"repo:{REPOSITORY}:pull_request:job_workflow_ref:{REPOSITORY}/.github/workflows/other.yml"
     "@refs/pull/7/merge", False),
])
def test_plan_trust_requires_a_pull_request_of_the_workflow(policies: dict[str, Any], sub: str,
                                                            expected: bool) -> None:
    assert (decide(policies["plan_trust"], github_token(sub), resource_policy=True) == ALLOW) is expected


def test_workflow_and_trust_agree_on_the_environment() -> None:
    workflow = (REPO / ".github" / "workflows" / "ci.yml").read_text()
    assert "environment: production" in workflow
    assert "refs/heads/main" in workflow


def test_pull_requests_plan_without_the_lock_and_deploy_checks_its_plan_before_applying_it() -> None:
    """The plan role may not write the lock, so CI's plan must not take it; and `make deploy` applies
    only the plan tests/infra/planned_policies.py passed."""
    workflow = (REPO / ".github" / "workflows" / "ci.yml").read_text()
    plan_job = workflow.split("\n  plan:\n", 1)[1].split("\n  deploy:\n", 1)[0]
    assert "make plan NO_LOCK=1" in plan_job
    makefile = (REPO / "Makefile").read_text()
    plan_recipe = makefile.split("\nplan:", 1)[1].split("\n\n", 1)[0]
    assert "$(if $(NO_LOCK),-lock=false,)" in plan_recipe
    deploy = makefile.split("\ndeploy:", 1)[1].split("\n\n", 1)[0]
    steps = [line.strip() for line in deploy.splitlines()[1:]]
    check = next(i for i, s in enumerate(steps) if "tests.infra.planned_policies infra/tfplan.json" in s)
    apply = next(i for i, s in enumerate(steps) if s.startswith("terraform -chdir=infra apply"))
    assert check < apply and steps[apply].endswith(" tfplan"), steps


def test_deployed_service_roles_carry_the_boundary_and_fit_inside_it(policies: dict[str, Any],
                                                                     local_stack: LocalStack) -> None:
    """Every grant of each role the main stack deploys is also allowed by the service boundary."""
    iam = local_stack.client("iam")
    kms = local_stack.client("kms")

    def aliases(key_arn: str) -> list[str]:
        """kms:ResourceAliases as KMS sends it: the aliases of the key a statement names."""
        return [a["AliasName"] for a in kms.list_aliases(KeyId=key_arn)["Aliases"]]

    roles = [r for r in iam.list_roles()["Roles"] if r["Path"] == f"/{NAME}/"]
    # publisher, read API, reconcile scheduler, canary, canary scheduler
    assert len(roles) == 5, [r["RoleName"] for r in roles]
    for role in roles:
        detail = iam.get_role(RoleName=role["RoleName"])["Role"]
        assert detail["PermissionsBoundary"]["PermissionsBoundaryArn"] == SERVICE_BOUNDARY
        for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
            document = json.loads(document) if isinstance(document, str) else document
            for statement in document["Statement"]:
                for action in listed(statement["Action"]):
                    for resource in listed(statement["Resource"]):
                        concrete = resource.replace("*", "x")
                        context = {"kms:ResourceAliases": aliases(resource)} if action.startswith("kms:") else {}
                        assert decide(policies["service_boundary"], Request(action, concrete, context)) == ALLOW, (
                            role["RoleName"], action, resource)


# --- what the pipeline must never do: destroy the data, or let anyone outside the account in -----

TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/llm_scores"
SITE = f"arn:aws:s3:::{NAME}-site-{ACCOUNT}"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(("action", "resource"), [
    ("dynamodb:DeleteTable", TABLE),
    ("dynamodb:DeleteBackup", f"{TABLE}/backup/01700000000000-abcdef12"),
    ("kms:ScheduleKeyDeletion", KEY),
    ("kms:DeleteImportedKeyMaterial", KEY),
    ("s3:DeleteObjectVersion", f"{SITE}/llms.json"),
    ("s3:DeleteBucket", SITE),
])
@pytest.mark.parametrize("role", ["deploy", "plan"])
def test_pipeline_roles_cannot_destroy_the_table_backups_key_or_object_versions(
    policies: dict[str, Any], role: str, action: str, resource: str
) -> None:
    """Explicit denies: they hold whatever the key policy (which names the deploy role) or a
    policy attached by mistake allows."""
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    request = Request(action, resource, {"aws:ResourceTag/service": NAME}, {"AWS": DEPLOY_ROLE})
    assert evaluate(request, identity=[policies[role]], boundary=policies["pipeline_boundary"],
                    resource=everything) == DENY
    assert evaluate(request, identity=[everything], boundary=policies["pipeline_boundary"]) == DENY


@pytest.mark.parametrize(("action", "resource", "context"), [
    ("dynamodb:PutResourcePolicy", TABLE, {}),
    ("dynamodb:DeleteResourcePolicy", TABLE, {}),
    ("kms:PutKeyPolicy", KEY, {}),
    ("kms:CreateGrant", KEY, {"kms:GranteePrincipal": "arn:aws:iam::999999999999:root"}),
    ("kms:CreateGrant", KEY, {"kms:GrantIsForAWSResource": "false"}),
    ("s3:PutBucketAcl", SITE, {}),
    ("s3:PutObjectAcl", f"{SITE}/llms.json", {}),
    ("s3:CreateAccessPoint", f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/out", {}),
    ("s3:PutAccountPublicAccessBlock", "*", {}),
    ("sqs:AddPermission", f"arn:aws:sqs:us-east-1:{ACCOUNT}:{NAME}-publisher-dlq", {}),
    ("sns:AddPermission", f"arn:aws:sns:us-east-1:{ACCOUNT}:{NAME}-alarms", {}),
    ("iam:UpdateAssumeRolePolicy", SERVICE_ROLE, {}),
    # Deleting a service role to create it anew with another trust.
    ("iam:DeleteRole", SERVICE_ROLE, {}),
])
def test_deploy_role_cannot_let_a_principal_outside_the_account_in(
    policies: dict[str, Any], action: str, resource: str, context: dict[str, str]
) -> None:
    assert deploy_may(policies, action, resource, **context) == DENY


def test_key_grants_only_for_aws_services_acting_for_the_stack(policies: dict[str, Any]) -> None:
    """DynamoDB and Lambda create grants on the key for the table and functions: allowed through the
    key policy; a grant the role asks for itself is denied."""
    key_policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": DEPLOY_ROLE}, "Action": "kms:*",
                                 "Resource": "*"}]}
    for via_service, expected in (("true", ALLOW), ("false", DENY)):
        request = Request("kms:CreateGrant", KEY, {"kms:GrantIsForAWSResource": via_service}, {"AWS": DEPLOY_ROLE})
        assert evaluate(request, identity=[policies["deploy"]], boundary=policies["pipeline_boundary"],
                        resource=key_policy) == expected


def test_deploy_role_creates_only_the_stacks_named_service_roles(policies: dict[str, Any]) -> None:
    """A role of the pipeline's own naming (on the service path, with the boundary, trusting anyone)
    would be a way back in; only the five roles infra/ declares may be created."""
    context = {"iam:PermissionsBoundary": SERVICE_BOUNDARY}
    assert deploy_may(policies, "iam:CreateRole", SERVICE_ROLE, **context) == ALLOW
    for name in ("backdoor", f"{NAME}-read-api-role-2", f"{NAME}-prod-read-api-role"):
        assert deploy_may(policies, "iam:CreateRole", f"{IAM}:role/{NAME}/{name}", **context) != ALLOW, name


@pytest.mark.parametrize(("keys", "expected"), [
    (["service"], ALLOW), (["service", "managed_by"], ALLOW), (["service", "team-abac"], IMPLICIT),
])
def test_kms_and_distribution_tags_only_with_the_stacks_keys(policies: dict[str, Any], keys: list[str],
                                                               expected: str) -> None:
    """aws:TagKeys: the deploy role may not set another tag key (another team's attribute-based access)."""
    context = {"aws:RequestTag/service": NAME, "aws:TagKeys": keys}
    for action, resource in (("kms:TagResource", KEY), ("kms:CreateKey", "*"),
                             ("cloudfront:TagResource", f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1")):
        assert deploy_may(policies, action, resource, **context) == expected, action


@pytest.mark.parametrize(("tag", "expected"), [(NAME, ALLOW), ("payments", DENY), (None, IMPLICIT)])
def test_deploy_and_plan_roles_reach_only_the_stacks_distribution(policies: dict[str, Any], tag: str | None,
                                                                  expected: str) -> None:
    distribution = f"arn:aws:cloudfront::{ACCOUNT}:distribution/EOTHERTEAM"
    context = {} if tag is None else {"aws:ResourceTag/service": tag}
    for action in ("cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution", "cloudfront:UntagResource"):
        assert deploy_may(policies, action, distribution, **context) == expected, action
    plan = evaluate(Request("cloudfront:GetDistributionConfig", distribution, context),
                    identity=[policies["plan"]], boundary=policies["pipeline_boundary"])
    assert plan == expected


# --- look-alike stack names: `x` and `x-prod`, `x` and `x-pipeline` ------------------------------

def resources_of(stack: str, region: str = "us-east-1") -> dict[str, str]:
    """One resource of each kind the deploy role manages, as the main stack names them for `stack`."""
    fn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{stack}"
    return {
        "lambda:UpdateFunctionCode": f"{fn}-publisher",
        "lambda:DeleteFunction": f"{fn}-read-api",
        "lambda:AddPermission": f"{fn}-canary",
        "logs:DeleteLogGroup": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/{stack}-publisher",
        "logs:PutRetentionPolicy": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:aws-waf-logs-{stack}",
        "sqs:SetQueueAttributes": f"arn:aws:sqs:{region}:{ACCOUNT}:{stack}-publisher-dlq",
        "sns:SetTopicAttributes": f"arn:aws:sns:{region}:{ACCOUNT}:{stack}-alarms",
        "sns:Subscribe": f"arn:aws:sns:us-east-1:{ACCOUNT}:{stack}-edge-tickets",
        "scheduler:UpdateSchedule": f"arn:aws:scheduler:{region}:{ACCOUNT}:schedule/default/{stack}-reconcile",
        "kms:UpdateAlias": f"arn:aws:kms:{region}:{ACCOUNT}:alias/{stack}",
        "s3:PutBucketPolicy": f"arn:aws:s3:::{stack}-site-{ACCOUNT}",
        "s3:PutObject": f"arn:aws:s3:::{stack}-site-{ACCOUNT}/llms.json",
        "iam:PutRolePolicy": f"{IAM}:role/{stack}/{stack}-publisher-role",
        "iam:PassRole": f"{IAM}:role/{stack}/{stack}-read-api-role",
        "cloudwatch:DeleteAlarms": f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{stack}-publisher-errors",
        "cloudwatch:DeleteDashboards": f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{stack}",
        "wafv2:UpdateWebACL": f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/{stack}-edge/abc",
        "cloudfront:UpdateDistribution": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E{len(stack)}",
    }


def lookalike_context(action: str, stack: str) -> dict[str, Any]:
    """What the request carries: the resource's stack tag (every resource has it), and what its action tests."""
    context: dict[str, Any] = {"aws:ResourceTag/service": stack}
    if action == "lambda:AddPermission":
        context["lambda:Principal"] = "cloudfront.amazonaws.com"
    if action in ("iam:PutRolePolicy",):
        context["iam:PermissionsBoundary"] = SERVICE_BOUNDARY.replace(NAME, stack)
    if action == "iam:PassRole":
        context["iam:PassedToService"] = "lambda.amazonaws.com"
    return context


@pytest.fixture(scope="module")
def twin_policies(bootstrap: Callable[..., subprocess.CompletedProcess[str]]) -> dict[str, Any]:
    return planned_policies(bootstrap, f"{NAME}-prod")


def test_the_deploy_role_manages_every_kind_of_its_own_stacks_resource(policies: dict[str, Any]) -> None:
    """The look-alike test below means something only if each of these is allowed for the stack itself."""
    for action, resource in resources_of(NAME).items():
        assert deploy_may(policies, action, resource, **lookalike_context(action, NAME)) == ALLOW, action


@pytest.mark.parametrize("tagged", [True, False], ids=["tagged", "untagged"])
def test_stacks_named_x_and_x_prod_cannot_touch_each_others_resources(
    policies: dict[str, Any], twin_policies: dict[str, Any], tagged: bool
) -> None:
    """Exact names (or patterns closed by a delimiter) keep `llm-catalogue` off `llm-catalogue-prod-*`
    and back; an alarm (named from a map, `<name>-*`) is told apart by its stack tag."""
    for mine, theirs, stack_policies in ((NAME, f"{NAME}-prod", policies), (f"{NAME}-prod", NAME, twin_policies)):
        for action, resource in resources_of(theirs).items():
            context = lookalike_context(action, theirs)
            if not tagged:
                context.pop("aws:ResourceTag/service")
                if action.startswith("cloudwatch:DeleteAlarms") and mine == NAME:
                    continue  # `llm-catalogue-*` names it: only the tag tells (the tagged case)
            decision = evaluate(Request(action, resource, context), identity=[stack_policies["deploy"]],
                                boundary=stack_policies["pipeline_boundary"])
            assert decision != ALLOW, (mine, action, resource)


def test_no_stack_may_be_named_like_another_stacks_pipeline(
    bootstrap: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """The pipeline roles of `x` live on /x-pipeline/, which is the service-role path a stack named
    `x-pipeline` would get iam:* on: both stacks refuse such a name."""
    proc = bootstrap("plan", "-input=false", "-no-color", "-refresh=false", f"-var=github_repository={REPOSITORY}",
                     f"-var=name={NAME}-pipeline", check=False)
    assert proc.returncode != 0 and "must not end in -pipeline" in proc.stderr + proc.stdout
    main_variables = (REPO / "infra" / "variables.tf").read_text()
    assert '!endswith(var.name, "-pipeline")' in main_variables


def test_named_edge_policies_pin_changes_to_the_stacks_own(
    policies: dict[str, Any], bootstrap: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """Cache and response headers policies take no tags: once the administrator names the stack's
    (var.edge_policy_ids), another team's CSP or HSTS policy is out of reach; creating stays open."""
    ours, theirs = "1a2b3c4d-0000-4000-8000-000000000001", "9f9f9f9f-0000-4000-8000-000000000002"
    pinned = planned_policies(bootstrap, NAME, f'edge_policy_ids=["{ours}"]')
    policy = f"arn:aws:cloudfront::{ACCOUNT}:response-headers-policy"
    for action in ("cloudfront:UpdateResponseHeadersPolicy", "cloudfront:DeleteResponseHeadersPolicy"):
        assert deploy_may(pinned, action, f"{policy}/{ours}") == ALLOW, action
        assert deploy_may(pinned, action, f"{policy}/{theirs}") != ALLOW, action
        assert deploy_may(policies, action, f"{policy}/{theirs}") == ALLOW, "unpinned until named"
    assert deploy_may(pinned, "cloudfront:CreateResponseHeadersPolicy", f"{policy}/new") == ALLOW
    assert deploy_may(pinned, "cloudfront:UpdateCachePolicy",
                      f"arn:aws:cloudfront::{ACCOUNT}:cache-policy/{theirs}") != ALLOW
