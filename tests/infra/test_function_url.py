"""No side door: only CloudFront's signed requests reach the read function, carrying only what it reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from .conftest import INFRA, LocalStack
from .iam_eval import ALLOW, Request, decide

pytestmark = pytest.mark.infra

CLOUDFRONT = {"Service": "cloudfront.amazonaws.com"}


def parsed(name: str) -> dict[str, Any]:
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    return hcl2.loads((INFRA / name).read_text(), serialization_options=options)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(INFRA).glob("*.tf")):
        for block in parsed(path.name).get("resource", []):
            found.update(block.get(kind, {}))
    return found


def one(block: Any) -> dict[str, Any]:
    """A nested block parses as a list of one."""
    return block[0] if isinstance(block, list) else block


def test_no_api_gateway_or_other_invoke_path_is_declared() -> None:
    text = "\n".join(p.read_text() for p in INFRA.glob("*.tf"))
    assert "aws_apigatewayv2" not in text and "aws_api_gateway_" not in text
    urls = resources("aws_lambda_function_url")
    assert list(urls) == ["read"]
    assert urls["read"]["authorization_type"] == "AWS_IAM"
    permissions = resources("aws_lambda_permission")
    assert {p["principal"] for p in permissions.values()} == {"cloudfront.amazonaws.com"}
    assert {p["source_arn"] for p in permissions.values()} == {"${aws_cloudfront_distribution.this.arn}"}
    assert {p["action"] for p in permissions.values()} == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}


def test_api_behaviour_forwards_only_the_query_string() -> None:
    (distribution,) = resources("aws_cloudfront_distribution").values()
    # The read API's behaviours (/api/* and the histories it serves, /history/*): one dynamic block
    # over the edge contract's function-only routes (test_emulator_apply checks the patterns).
    blocks = [one(block["ordered_cache_behavior"]) for block in distribution["dynamic"]]
    (read_api,) = [b for b in blocks if "function" in str(b["for_each"])]
    assert read_api["for_each"] == '${local.route_patterns["function"]}'
    api = one(read_api["content"])
    assert api["target_origin_id"] == "${local.api_origin_id}"
    assert "origin_request_policy_id" not in api, "no viewer header or cookie is forwarded to the function"
    assert api["cache_policy_id"] == "${local.api_cache_policy_id}"
    policy = one(resources("aws_cloudfront_cache_policy")["api"]["parameters_in_cache_key_and_forwarded_to_origin"])
    assert one(policy["headers_config"])["header_behavior"] == "none"
    assert one(policy["cookies_config"])["cookie_behavior"] == "none"
    assert one(policy["query_strings_config"])["query_string_behavior"] == "all"
    assert policy["enable_accept_encoding_brotli"] is True and policy["enable_accept_encoding_gzip"] is True

    oacs = resources("aws_cloudfront_origin_access_control")
    assert oacs["read_api"]["origin_access_control_origin_type"] == "lambda"
    assert oacs["read_api"]["signing_behavior"] == "always"
    origins = distribution["origin"] if isinstance(distribution["origin"], list) else [distribution["origin"]]
    api_origin = next(o for o in origins if o["origin_id"] == "${local.api_origin_id}")
    assert api_origin["origin_access_control_id"] == "${aws_cloudfront_origin_access_control.read_api.id}"


def test_deployed_function_url_takes_only_iam_signed_requests(local_stack: LocalStack) -> None:
    lam = local_stack.client("lambda")
    name = local_stack.outputs["read_function"]
    config = lam.get_function_url_config(FunctionName=name)
    assert config["AuthType"] == "AWS_IAM"
    assert config["FunctionUrl"] == local_stack.outputs["read_function_url"]
    assert local_stack.client("apigatewayv2").get_apis()["Items"] == []


def _distribution(local_stack: LocalStack) -> dict[str, Any]:
    (summary,) = local_stack.client("cloudfront").list_distributions()["DistributionList"]["Items"]
    return summary


def test_only_this_distribution_may_invoke_the_read_function(local_stack: LocalStack) -> None:
    lam = local_stack.client("lambda")
    name = local_stack.outputs["read_function"]
    function_arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    ours = _distribution(local_stack)["ARN"]
    other = ours.rsplit("/", 1)[0] + "/EOTHERDISTRIBUTION"

    def decision(action: str, principal: dict[str, str], source_arn: str | None) -> str:
        context = {"aws:SourceArn": source_arn} if source_arn else {}
        return decide(policy, Request(action, function_arn, context, principal), resource_policy=True)

    for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"):
        assert decision(action, CLOUDFRONT, ours) == ALLOW, action
        assert decision(action, CLOUDFRONT, other) != ALLOW, "another account's or stack's distribution"
        assert decision(action, CLOUDFRONT, None) != ALLOW, "CloudFront on nobody's behalf"
        assert decision(action, {"AWS": "arn:aws:iam::210987654321:root"}, None) != ALLOW, "another account"
        assert decision(action, {"AWS": "*"}, None) != ALLOW, "anyone"
        assert decision(action, {"Service": "apigateway.amazonaws.com"}, ours) != ALLOW
    for statement in policy["Statement"]:
        assert statement["Principal"] == CLOUDFRONT, statement
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == ours, statement


def test_distribution_reaches_the_function_url_through_its_own_oac(local_stack: LocalStack) -> None:
    cloudfront = local_stack.client("cloudfront")
    config = cloudfront.get_distribution_config(Id=_distribution(local_stack)["Id"])["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    host = local_stack.outputs["read_function_url"].removeprefix("https://").rstrip("/")
    assert origins["read-api"]["DomainName"] == host
    assert origins["read-api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]["Items"]}
    assert not behaviours["/api/*"].get("OriginRequestPolicyId"), "no viewer headers or cookies forwarded"
    # moto does not echo an origin's OAC id back; the OACs themselves are checked instead.
    oacs = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert sorted((o["OriginAccessControlOriginType"], o["SigningBehavior"], o["SigningProtocol"]) for o in oacs) == [
        ("lambda", "always", "sigv4"), ("s3", "always", "sigv4")]
