"""`make infra-local` against our own moto server, then boto3 inspects what was created."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from publisher.core import edge_contract
from publisher.local.trigger_settings import trigger_settings

from . import iam_check
from .conftest import LocalStack

pytestmark = pytest.mark.infra

EXPECTED_OUTPUTS = {
    "cdn_url", "read_function_url", "table_name", "site_bucket", "publisher_function", "read_function",
    "dlq_url", "alarm_topic_arn", "dashboard_name", "canary_function", "ticket_topic_arn", "alert_topic_arns",
}
SLO = json.loads((Path(__file__).resolve().parents[2] / "infra" / "slo.json").read_text())
# The SLOs whose burn-rate alarms infra/ builds, by the prefix of their alarm names.
BURN_SLOS = {"edge_availability": "edge-availability", "api_availability": "api-availability",
             "freshness": "freshness"}


def test_outputs_are_complete(local_stack: LocalStack) -> None:
    assert set(local_stack.outputs) == EXPECTED_OUTPUTS
    assert local_stack.outputs["table_name"] == "llm_scores"
    assert local_stack.outputs["cdn_url"].startswith("https://")
    # What on-call subscribes to by hand (infra/README.md): in us-east-1, the two topics themselves.
    assert sorted(local_stack.outputs["alert_topic_arns"]) == sorted(
        [local_stack.outputs["alarm_topic_arn"], local_stack.outputs["ticket_topic_arn"]])


def test_table_has_stream_pitr_and_kms(local_stack: LocalStack) -> None:
    ddb = local_stack.client("dynamodb")
    table = ddb.describe_table(TableName="llm_scores")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "model_name", "KeyType": "HASH"}]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    backups = ddb.describe_continuous_backups(TableName="llm_scores")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


@pytest.mark.parametrize(("output", "handler", "service", "tracing"), [
    ("publisher_function", "publisher.publish.handler.handler", "publisher", "Active"),
    ("read_function", "publisher.read.handler.handler", "read-api", "PassThrough"),
])
def test_functions_run_python313_on_arm64_with_tracing(local_stack: LocalStack, output: str, handler: str,
                                                       service: str, tracing: str) -> None:
    lam = local_stack.client("lambda")
    name = local_stack.outputs[output]
    config = lam.get_function_configuration(FunctionName=name)
    assert config["Runtime"] == "python3.13"
    assert config["Architectures"] == ["arm64"]
    assert config["Handler"] == handler
    assert config["TracingConfig"] == {"Mode": tracing}
    env = config["Environment"]["Variables"]
    assert env["TABLE_NAME"] == "llm_scores"
    assert env["SITE_BUCKET"] == local_stack.outputs["site_bucket"]
    assert env["POWERTOOLS_SERVICE_NAME"] == service
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "LlmCatalogue"
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] >= 1


def test_the_canary_runs_every_5_minutes_against_the_cdn_without_retries(local_stack: LocalStack) -> None:
    lam = local_stack.client("lambda")
    name = local_stack.outputs["canary_function"]
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["Runtime"], config["Architectures"], config["Handler"]) == (
        "python3.13", ["arm64"], "publisher.canary.handler.handler")
    slo = json.loads((Path(__file__).resolve().parents[2] / "infra" / "slo.json").read_text())
    assert config["Timeout"] > slo["canary"]["timeout_seconds"]
    env = config["Environment"]["Variables"]
    assert env == {"CANARY_BASE_URL": local_stack.outputs["cdn_url"], "TABLE_NAME": "llm_scores",
                   "CANARY_TIMEOUT_SECONDS": str(slo["canary"]["timeout_seconds"])}
    invoke = lam.get_function_event_invoke_config(FunctionName=name)
    assert (invoke["MaximumRetryAttempts"], invoke["MaximumEventAgeInSeconds"]) == (0, 60)
    schedule = local_stack.client("scheduler").get_schedule(Name="llm-catalogue-canary")
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Target"]["Arn"] == config["FunctionArn"]
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0


def test_the_canary_role_writes_only_the_heartbeat_key(local_stack: LocalStack) -> None:
    from publisher.core.heartbeat import HEARTBEAT_KEY

    iam = local_stack.client("iam")
    role = local_stack.client("lambda").get_function_configuration(
        FunctionName=local_stack.outputs["canary_function"])["Role"].rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    (write,) = [s for s in document["Statement"] if "dynamodb:PutItem" in str(s["Action"])]
    assert write["Resource"].endswith(":table/llm_scores")
    assert write["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": HEARTBEAT_KEY}}


def test_publisher_links_to_the_cdn(local_stack: LocalStack) -> None:
    env = local_stack.client("lambda").get_function_configuration(
        FunctionName=local_stack.outputs["publisher_function"])["Environment"]["Variables"]
    assert env["PUBLIC_BASE_URL"] == local_stack.outputs["cdn_url"]


def test_every_log_group_has_retention(local_stack: LocalStack) -> None:
    groups = {}
    for region in ("us-east-1",):
        for page in local_stack.client("logs", region).get_paginator("describe_log_groups").paginate():
            groups.update({g["logGroupName"]: g for g in page["logGroups"]})
    expected = {
        f"/aws/lambda/{local_stack.outputs['publisher_function']}",
        f"/aws/lambda/{local_stack.outputs['read_function']}",
        f"/aws/lambda/{local_stack.outputs['canary_function']}",
        "aws-waf-logs-llm-catalogue",
    }
    assert expected <= set(groups)
    assert {name: groups[name].get("retentionInDays") for name in expected} == dict.fromkeys(expected, 30)


def test_stream_trigger_settings(local_stack: LocalStack) -> None:
    lam = local_stack.client("lambda")
    publisher = local_stack.outputs["publisher_function"]
    function_arn = lam.get_function(FunctionName=publisher)["Configuration"]["FunctionArn"]
    mappings = lam.list_event_source_mappings(FunctionName=function_arn)["EventSourceMappings"]
    assert len(mappings) == 1
    esm = mappings[0]
    table = local_stack.client("dynamodb").describe_table(TableName="llm_scores")["Table"]
    stream_arn = table["LatestStreamArn"]
    dlq_arn = local_stack.client("sqs").get_queue_attributes(
        QueueUrl=local_stack.outputs["dlq_url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert esm["EventSourceArn"] == stream_arn
    assert esm["StartingPosition"] == "TRIM_HORIZON"
    # A burst coalesces into a few publishes (SOLUTION.md); the local trigger batches the same way.
    assert esm["BatchSize"] == 10_000 == trigger_settings().batch_size
    assert esm["MaximumBatchingWindowInSeconds"] == 1 == trigger_settings().window_seconds
    assert esm["BisectBatchOnFunctionError"] is True
    assert esm["MaximumRetryAttempts"] == 5
    assert esm["MaximumRecordAgeInSeconds"] == 3600
    assert esm["ParallelizationFactor"] == 1
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["DestinationConfig"]["OnFailure"]["Destination"] == dlq_arn


def test_dlq_and_alarm_topic_are_encrypted(local_stack: LocalStack) -> None:
    attrs = local_stack.client("sqs").get_queue_attributes(
        QueueUrl=local_stack.outputs["dlq_url"], AttributeNames=["All"])["Attributes"]
    assert attrs.get("KmsMasterKeyId")
    assert attrs["MessageRetentionPeriod"] == "1209600"
    topic = local_stack.client("sns").get_topic_attributes(TopicArn=local_stack.outputs["alarm_topic_arn"])
    assert topic["Attributes"].get("KmsMasterKeyId")


def test_reconcile_schedule_invokes_a_rebuild(local_stack: LocalStack) -> None:
    schedule = local_stack.client("scheduler").get_schedule(Name="llm-catalogue-reconcile")
    assert schedule["Target"]["Arn"].endswith(f":function:{local_stack.outputs['publisher_function']}")
    assert json.loads(schedule["Target"]["Input"]) == {"action": "rebuild"}


def test_site_bucket_is_private_versioned_and_encrypted(local_stack: LocalStack) -> None:
    s3 = local_stack.client("s3")
    bucket = local_stack.outputs["site_bucket"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert any("NoncurrentVersionExpiration" in r for r in lifecycle)


def test_dated_snapshots_move_to_infrequent_access_after_30_days(local_stack: LocalStack) -> None:
    from publisher.publish import dated_snapshots

    s3 = local_stack.client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=local_stack.outputs["site_bucket"])["Rules"]
    (rule,) = [r for r in rules if r.get("Filter", {}).get("Prefix") == dated_snapshots.PREFIX]
    assert rule["Status"] == "Enabled"
    assert rule["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    # Only the dated snapshots: the catalogue's live objects stay in STANDARD.
    assert all("Transitions" not in r for r in rules if r is not rule)


def test_the_version_log_and_its_checkpoints_expire_after_the_retention_the_read_api_is_told(
        local_stack: LocalStack) -> None:
    from publisher.core.config import DEFAULT_HISTORY_RETENTION_DAYS
    from publisher.core.documents import LOG_PREFIX
    from publisher.core.replay import CHECKPOINT_INDEX_KEY, CHECKPOINT_PREFIX

    rules = local_stack.client("s3").get_bucket_lifecycle_configuration(
        Bucket=local_stack.outputs["site_bucket"])["Rules"]
    expiring = {r["Filter"]["Prefix"]: r for r in rules if "Expiration" in r}
    assert set(expiring) == {LOG_PREFIX, CHECKPOINT_PREFIX}
    for rule in expiring.values():
        assert rule["Status"] == "Enabled"
        assert rule["Expiration"] == {"Days": DEFAULT_HISTORY_RETENTION_DAYS}
    # The index is rewritten, never expired: it lies outside both prefixes.
    assert not any(CHECKPOINT_INDEX_KEY.startswith(prefix) for prefix in expiring)
    read = local_stack.client("lambda").get_function_configuration(FunctionName=local_stack.outputs["read_function"])
    assert read["Environment"]["Variables"]["HISTORY_RETENTION_DAYS"] == str(DEFAULT_HISTORY_RETENTION_DAYS)


def test_site_bucket_answers_cors_preflights_from_the_edge_contract(local_stack: LocalStack) -> None:
    from publisher.core import edge_contract

    cors = edge_contract.contract()["cors"]
    (rule,) = local_stack.client("s3").get_bucket_cors(Bucket=local_stack.outputs["site_bucket"])["CORSRules"]
    assert rule["AllowedOrigins"] == cors["allow_origins"] == ["*"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD"]
    # Terraform holds these as sets: the order is not kept.
    assert sorted(rule["AllowedHeaders"]) == sorted(cors["allow_headers"])
    assert sorted(rule["ExposeHeaders"]) == sorted(cors["expose_headers"])
    assert rule["MaxAgeSeconds"] == cors["max_age_seconds"]


def test_bucket_policy_lets_only_this_distribution_read_and_never_internal(local_stack: LocalStack) -> None:
    cloudfront = local_stack.client("cloudfront")
    distribution = cloudfront.list_distributions()["DistributionList"]["Items"][0]
    s3 = local_stack.client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=local_stack.outputs["site_bucket"])["Policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    tls = by_sid["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    read = by_sid["CloudFrontReadsPublishedObjects"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert read["Condition"] == {"StringEquals": {"aws:SourceArn": distribution["ARN"]}}
    internal = by_sid["CloudFrontNeverReadsInternalState"]
    assert internal["Effect"] == "Deny" and internal["Resource"].endswith("/internal/*")


def test_distribution_has_two_origins_and_a_failover_group(local_stack: LocalStack) -> None:
    from publisher.core import edge_contract

    cloudfront = local_stack.client("cloudfront")
    distribution = cloudfront.list_distributions()["DistributionList"]["Items"][0]
    config = cloudfront.get_distribution_config(Id=distribution["Id"])["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    assert set(origins) == {"site-bucket", "read-api"}
    assert origins["site-bucket"]["DomainName"].startswith(local_stack.outputs["site_bucket"] + ".s3.")

    (group,) = config["OriginGroups"]["Items"]
    assert [m["OriginId"] for m in group["Members"]["Items"]] == ["site-bucket", "read-api"]
    assert sorted(group["FailoverCriteria"]["StatusCodes"]["Items"]) == [403, 404, 500, 502, 503, 504]

    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]["Items"]}
    assert set(behaviours) == {"/api/*", "/llms.json", "/llms", "/history/*", "/providers/*"}
    # Derived in HCL from the edge contract's routes, as the local edge derives them in Python.
    assert list(behaviours) == [*edge_contract.path_patterns(edge_contract.FUNCTION),
                                *edge_contract.path_patterns(edge_contract.FAILOVER)]
    # Histories live in private shards: the read API serves them, S3 is not asked first.
    assert behaviours["/api/*"]["TargetOriginId"] == behaviours["/history/*"]["TargetOriginId"] == "read-api"
    for failover in ("/llms.json", "/llms", "/providers/*"):
        assert behaviours[failover]["TargetOriginId"] == group["Id"]
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "site-bucket"
    for behaviour in [default, *behaviours.values()]:
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["Compress"] is True
        # The emulator cannot create the custom policy (test_edge_policy.py proves it): the managed
        # CORS-with-preflight-and-SecurityHeadersPolicy stands in.
        assert behaviour["ResponseHeadersPolicyId"] == "eaab4381-ed33-4a86-88ca-d9558dc6cd63"
        methods = behaviour["AllowedMethods"]
        assert sorted(methods["Items"]) == ["GET", "HEAD", "OPTIONS"]
        # A cached preflight would answer every later preflight of the URL, whatever it asked.
        assert sorted(methods["CachedMethods"]["Items"]) == ["GET", "HEAD"]
    for s3_path in [default, *(behaviours[p] for p in ("/llms.json", "/llms", "/providers/*"))]:
        # CORS-S3Origin: S3 needs Origin and Access-Control-Request-* to answer a preflight.
        assert s3_path["OriginRequestPolicyId"] == "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
    errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]["Items"]}
    assert errors[404]["ErrorCachingMinTTL"] == 0
    assert config["DefaultRootObject"] == "index.html"
    assert config["WebACLId"].startswith("arn:aws:wafv2:us-east-1:")


def test_waf_rules_reputation_bad_inputs_and_rate_limits_on_every_path_that_runs_code(local_stack: LocalStack) -> None:
    waf = local_stack.client("wafv2")
    (summary,) = waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]
    acl = waf.get_web_acl(Name=summary["Name"], Scope="CLOUDFRONT", Id=summary["Id"])["WebACL"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    assert set(rules) == {"aws-ip-reputation", "aws-known-bad-inputs", "rate-limit-per-ip",
                          "function-paths-rate-limit-per-ip", "failover-paths-rate-limit-per-ip"}
    managed = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in rules.values()
               if "ManagedRuleGroupStatement" in r["Statement"]}
    assert managed == {"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet"}
    everywhere = rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]
    assert (everywhere["Limit"], everywhere["AggregateKeyType"]) == (variable_default("waf_rate_limit"), "IP")
    # No all-clients (CONSTANT) limit: it would count cache hits, and one client could trip it for all.
    assert all(r["Statement"].get("RateBasedStatement", {}).get("AggregateKeyType") in (None, "IP")
               for r in rules.values())
    for origin, limit in [(edge_contract.FUNCTION, "waf_api_rate_limit"),
                          (edge_contract.FAILOVER, "waf_failover_rate_limit")]:
        rate = rules[f"{origin}-paths-rate-limit-per-ip"]["Statement"]["RateBasedStatement"]
        assert (rate["AggregateKeyType"], rate["Limit"]) == ("IP", variable_default(limit)), origin
        matches = [s["ByteMatchStatement"] for s in rate["ScopeDownStatement"]["OrStatement"]["Statements"]]
        covered = set()
        for match in matches:
            assert match["FieldToMatch"] == {"UriPath": {}}
            # Matched on the path the CDN routes: percent-decoded, then normalised (//, ./, ../).
            steps = sorted(match["TextTransformations"], key=lambda t: t["Priority"])
            assert [t["Type"] for t in steps] == ["URL_DECODE", "NORMALIZE_PATH"]
            search = match["SearchString"]
            search = search.decode() if isinstance(search, bytes) else search
            covered.add((match["PositionalConstraint"], search))
        # Every behaviour of this origin, as the edge contract routes it (cdn.tf derives the same).
        expected = {("STARTS_WITH", p.removesuffix("*")) if p.endswith("/*") else ("EXACTLY", p)
                    for p in edge_contract.path_patterns(origin)}
        assert covered == expected, origin
    assert {p for _, p in covered} >= {"/providers/", "/llms"}


def test_waf_logs_keep_only_blocked_requests_redacted_and_encrypted(local_stack: LocalStack) -> None:
    waf = local_stack.client("wafv2")
    (summary,) = waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]
    config = waf.get_logging_configuration(ResourceArn=summary["ARN"])["LoggingConfiguration"]
    redacted = {f["SingleHeader"]["Name"] for f in config["RedactedFields"]}
    assert {"authorization", "cookie"} <= redacted
    logging_filter = config["LoggingFilter"]
    assert logging_filter["DefaultBehavior"] == "DROP"
    (kept,) = logging_filter["Filters"]
    assert kept["Behavior"] == "KEEP"
    assert {c["ActionCondition"]["Action"] for c in kept["Conditions"]} == {"BLOCK", "COUNT"}
    groups = local_stack.client("logs").describe_log_groups(logGroupNamePrefix="aws-waf-logs-")["logGroups"]
    (group,) = groups
    assert config["LogDestinationConfigs"][0].startswith(group["arn"].removesuffix(":*"))
    key = local_stack.client("kms").describe_key(KeyId="alias/llm-catalogue")["KeyMetadata"]["Arn"]
    assert group["kmsKeyId"] == key


def variable_default(name: str) -> object:
    """A variable's default as infra/variables.tf declares it (the apply uses the defaults)."""
    import hcl2
    from hcl2 import SerializationOptions

    text = (Path(__file__).resolve().parents[2] / "infra" / "variables.tf").read_text()
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    for block in hcl2.loads(text, serialization_options=options)["variable"]:
        if name in block:
            return block[name]["default"]
    raise KeyError(name)


def describe_all_alarms(local_stack: LocalStack) -> tuple[dict[str, Any], dict[str, Any]]:
    cloudwatch = local_stack.client("cloudwatch")
    metric, composite = {}, {}
    for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix="llm-catalogue-", AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
        metric.update({a["AlarmName"]: a for a in page.get("MetricAlarms", [])})
        composite.update({a["AlarmName"]: a for a in page.get("CompositeAlarms", [])})
    return metric, composite


def test_burn_rate_alerts_are_composites_of_two_windows_with_the_python_thresholds(local_stack: LocalStack) -> None:
    metric, composite = describe_all_alarms(local_stack)
    pages, tickets = local_stack.outputs["alarm_topic_arn"], local_stack.outputs["ticket_topic_arn"]
    checked = 0
    for slo_name, prefix in BURN_SLOS.items():
        budget = SLO["slos"][slo_name]["error_budget"]
        for tier_name, tier in SLO["tiers"].items():
            name = f"llm-catalogue-{prefix}-{tier_name}-burn"
            alert = composite[name]
            windows = [f"{name}-{tier['long_window_label']}", f"{name}-{tier['short_window_label']}"]
            assert alert["AlarmRule"] == " AND ".join(f'ALARM("{w}")' for w in windows)
            topic = pages if tier["severity"] == "page" else tickets
            assert alert["AlarmActions"] == [topic] and alert["OKActions"] == [topic], name
            assert alert["AlarmDescription"].startswith(tier["severity"].upper())
            target = SLO["slos"][slo_name]
            assert (f"{tier['budget_percent']}% of the 30-day error budget (target {target['target_percent']}%)"
                    in alert["AlarmDescription"]), alert["AlarmDescription"]
            for window, seconds in zip(windows, (tier["long_window_seconds"], tier["short_window_seconds"]),
                                       strict=True):
                child = metric[window]
                assert child["Threshold"] == tier["burn_rate"] and child["EvaluationPeriods"] == 1
                assert child["ComparisonOperator"] == "GreaterThanThreshold"
                assert child["ActionsEnabled"] is False and not child.get("AlarmActions")
                queries = {q["Id"]: q for q in child["Metrics"]}
                (burn,) = [q for q in queries.values() if q.get("ReturnData")]
                assert burn["Expression"].endswith(f") / {budget}"), burn["Expression"]
                stats = [q["MetricStat"] for q in queries.values() if "MetricStat" in q]
                assert stats and {s["Period"] for s in stats} == {seconds}, window
                checked += 1
    assert checked == 2 * len(BURN_SLOS) * len(SLO["tiers"]) >= 4
    freshness = metric["llm-catalogue-freshness-fast-burn-1h"]
    names = {q["MetricStat"]["Metric"]["MetricName"] for q in freshness["Metrics"] if "MetricStat" in q}
    assert names == {SLO["canary"]["metrics"]["breaches"], SLO["canary"]["metrics"]["probes"]}


class _Value(float):
    """A CloudWatch metric-math value for the test below: x / 0 is NaN (no error), as in CloudWatch."""

    def __truediv__(self, other: float) -> _Value:
        return _Value(float("nan") if other == 0 else float(self) / other)

    def __rtruediv__(self, other: float) -> _Value:
        return _Value(float("nan") if self == 0 else other / float(self))


def metric_math(expression: str, values: dict[str, float | None]) -> float:
    """The deployed expression evaluated on one window's values (IF, FILL and arithmetic: all it uses)."""
    def fill(value: _Value | None, default: float) -> _Value:
        return _Value(default) if value is None else value

    def if_(condition: bool, then: _Value, otherwise: _Value) -> _Value:
        return then if condition else otherwise

    names = {k: None if v is None else _Value(v) for k, v in values.items()}
    code = expression.replace("IF(", "if_(").replace("FILL(", "fill(")
    return float(eval(code, {"__builtins__": {}, "if_": if_, "fill": fill}, names))  # noqa: S307 - our own alarms


def test_each_window_alarm_computes_the_burn_rate_the_python_defines(local_stack: LocalStack) -> None:
    """The workbook's arithmetic (publisher/core/slo.py) is what each deployed metric-math expression computes:
    at the tier's error ratio the burn rate equals the threshold (GreaterThanThreshold: not yet), above it fires."""
    metric, _ = describe_all_alarms(local_stack)
    checked = 0
    for slo_name, prefix in BURN_SLOS.items():
        budget = SLO["slos"][slo_name]["error_budget"]
        for tier_name, tier in SLO["tiers"].items():
            ratio = SLO["slos"][slo_name]["alerts"][tier_name]["error_ratio"]
            for label in (tier["long_window_label"], tier["short_window_label"]):
                alarm = metric[f"llm-catalogue-{prefix}-{tier_name}-burn-{label}"]
                (burn,) = [q["Expression"] for q in alarm["Metrics"] if q.get("ReturnData")]
                ids = {q["Id"] for q in alarm["Metrics"] if "MetricStat" in q}

                def window(share: float, ids: set[str] = ids) -> dict[str, float | None]:
                    # The edge's metric is CloudFront's 5xx rate in percent; the others count events.
                    return {"rate": share * 100} if ids == {"rate"} else {"bad": share * 100_000, "total": 100_000}

                assert metric_math(burn, window(ratio)) == pytest.approx(tier["burn_rate"])
                assert metric_math(burn, window(ratio * 1.01)) > alarm["Threshold"] == tier["burn_rate"]
                assert metric_math(burn, window(ratio * 0.99)) < alarm["Threshold"]
                assert metric_math(burn, window(budget)) == pytest.approx(1)  # a burn rate of 1: the budget's pace
                # No bad event sent (the canary sends breaches only when there is one), or no traffic: no burn.
                quiet = [{"rate": None}] if ids == {"rate"} else [{"bad": None, "total": 60}, {"bad": None, "total": 0}]
                assert [metric_math(burn, values) for values in quiet] == [0] * len(quiet)
                checked += 1
    assert checked == 2 * len(BURN_SLOS) * len(SLO["tiers"])


def test_every_alert_that_notifies_has_its_row_in_the_runbook(local_stack: LocalStack) -> None:
    """SOLUTION.md's "Respond to each alert": one row per deployed alarm with actions, its severity as deployed."""
    metric, composite = describe_all_alarms(local_stack)
    tickets = local_stack.outputs["ticket_topic_arn"]
    deployed = {name.removeprefix("llm-catalogue-"): "ticket" if alarm["AlarmActions"] == [tickets] else "page"
                for name, alarm in {**metric, **composite}.items() if alarm["ActionsEnabled"]}
    text = (Path(__file__).resolve().parents[2] / "SOLUTION.md").read_text()
    table = text[text.index("### Respond to each alert"):]
    documented = {cells[1].strip().strip("`"): cells[2].strip()
                  for cells in (line.split("|") for line in table.splitlines() if line.startswith("| `"))}
    assert len(deployed) == len(SLO["slos"]) * len(SLO["tiers"]) + 8
    assert documented == deployed


def test_the_canary_has_its_own_cause_alarms(local_stack: LocalStack) -> None:
    metric, _ = describe_all_alarms(local_stack)
    silent = metric["llm-catalogue-canary-not-running"]
    assert (silent["MetricName"], silent["ComparisonOperator"], silent["TreatMissingData"]) == (
        SLO["canary"]["metrics"]["probes"], "LessThanThreshold", "breaching")
    checks = metric["llm-catalogue-canary-checks"]
    assert (checks["MetricName"], checks["Period"], checks["EvaluationPeriods"], checks["DatapointsToAlarm"]) == (
        SLO["canary"]["metrics"]["check_failures"], 300, 2, 2)
    for alarm in (silent, checks):
        assert alarm["AlarmActions"] == [local_stack.outputs["alarm_topic_arn"]]


def test_alarms_and_dashboard_exist(local_stack: LocalStack) -> None:
    cloudwatch = local_stack.client("cloudwatch")
    described, _ = describe_all_alarms(local_stack)
    alarms = {name: a for name, a in described.items() if "-burn-" not in name and "canary" not in name}
    # The causes stay; the static symptom alarms (staleness, read errors, API 5xx, CloudFront 5xx
    # rate) gave way to the SLOs' burn-rate alerts.
    assert set(alarms) == {
        "llm-catalogue-publisher-errors", "llm-catalogue-publisher-iterator-age",
        "llm-catalogue-publisher-dlq-messages", "llm-catalogue-publish-failures",
        "llm-catalogue-read-throttles", "llm-catalogue-read-p99-duration",
    }
    assert alarms["llm-catalogue-read-p99-duration"]["ExtendedStatistic"] == "p99"
    tickets = {"llm-catalogue-read-throttles", "llm-catalogue-read-p99-duration"}
    for name, alarm in alarms.items():
        topic = local_stack.outputs["ticket_topic_arn" if name in tickets else "alarm_topic_arn"]
        assert alarm["AlarmActions"] == [topic], name
    dashboard = cloudwatch.get_dashboard(DashboardName=local_stack.outputs["dashboard_name"])
    body = json.loads(dashboard["DashboardBody"])
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    for slo_name, slo in SLO["slos"].items():
        label = slo_name.replace("_", " ")
        sli, budget, burn = (next(w for w in body["widgets"] if w["properties"].get("title", "").startswith(
            f"{label}: {kind}")) for kind in ("SLI", "error budget left", "burn rate"))
        assert f"target {slo['target_percent']}%" in sli["properties"]["title"]
        expressions = {m[0]["id"]: m[0]["expression"] for w in (sli, budget, burn)
                       for m in w["properties"]["metrics"] if isinstance(m[0], dict)}
        assert expressions["budget"].endswith(f") / {slo['error_budget']})")
        assert expressions["burn"].endswith(f") / {slo['error_budget']}")
        assert budget["properties"]["view"] == "singleValue" and budget["properties"]["start"] == "-P30D"
        thresholds = {a["value"] for a in burn["properties"]["annotations"]["horizontal"]}
        assert thresholds == {tier["burn_rate"] for tier in SLO["tiers"].values()}
    assert any(t.startswith("Freshness: the canary") for t in titles)
    alerts = next(w for w in body["widgets"] if w["type"] == "alarm")["properties"]["alarms"]
    assert len(alerts) == len(SLO["slos"]) * len(SLO["tiers"]) + 8


@pytest.mark.parametrize(("output", "function"), [
    ("publisher_function", "publisher"), ("read_function", "read"), ("canary_function", "canary"),
])
def test_deployed_role_policy_is_the_one_iam_check_reads(local_stack: LocalStack, output: str,
                                                         function: str) -> None:
    iam = local_stack.client("iam")
    lam = local_stack.client("lambda")
    role = lam.get_function_configuration(FunctionName=local_stack.outputs[output])["Role"]
    role_name = role.rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    deployed = set()
    for statement in document["Statement"]:
        actions = statement["Action"]
        deployed.update([actions] if isinstance(actions, str) else actions)
    assert deployed == iam_check.granted_actions(function)
