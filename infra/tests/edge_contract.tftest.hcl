# The CloudFront response headers policy and what the behaviours attach, proven without AWS: the
# emulator has no response headers policy API, so this plans and "applies" the whole module against
# a mocked provider and checks the policy against publisher/core/edge_contract.json.
# Run by tests/infra/test_edge_policy.py in a scratch copy:
#   terraform test -var=edge_contract_path=... -var=publisher_zip_path=... -var=read_zip_path=... -var=canary_zip_path=...

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  # The provider checks the ARNs it is handed even when mocked: give the resources real-looking ones.
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/mock" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mock" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mock"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mock/invocations"
    }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/llm_scores"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/llm_scores/stream/2026-01-01T00:00:00.000"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mock-site" }
  }
  mock_resource "aws_cloudfront_distribution" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:distribution/MOCK" }
  }
  mock_resource "aws_lambda_function_url" {
    defaults = { function_url = "https://mock.lambda-url.eu-west-1.on.aws/" }
  }
}

mock_provider "aws" {
  alias = "us_east_1"

  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-mock" }
  }
  mock_resource "aws_wafv2_web_acl" {
    defaults = { arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/mock/1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mock" }
  }
}

run "the_edge_sends_the_contracts_cors_and_csp_on_every_behaviour" {
  command = apply

  assert {
    condition     = length(aws_cloudfront_response_headers_policy.edge) == 2
    error_message = "production creates the custom response headers policies (the site's and the API's)"
  }

  assert {
    condition     = aws_cloudfront_response_headers_policy.edge["site"].cors_config[0].access_control_allow_origins[0].items == toset(local.edge_contract.cors.allow_origins) && contains(local.edge_contract.cors.allow_origins, "*")
    error_message = "CORS allows any origin, as the contract says"
  }

  assert {
    condition     = aws_cloudfront_response_headers_policy.edge["site"].cors_config[0].access_control_allow_methods[0].items == toset(["GET", "HEAD", "OPTIONS"])
    error_message = "preflight answers GET, HEAD and OPTIONS"
  }

  assert {
    condition     = aws_cloudfront_response_headers_policy.edge["site"].cors_config[0].access_control_expose_headers[0].items == toset(local.edge_contract.cors.expose_headers) && contains(local.edge_contract.cors.expose_headers, "ETag")
    error_message = "ETag and the snapshot headers are readable cross-origin"
  }

  assert {
    condition     = aws_cloudfront_response_headers_policy.edge["site"].cors_config[0].access_control_allow_credentials == false && aws_cloudfront_response_headers_policy.edge["site"].cors_config[0].origin_override
    error_message = "no credentials; the policy overrides the origin's CORS headers"
  }

  assert {
    condition     = aws_cloudfront_response_headers_policy.edge["site"].security_headers_config[0].content_security_policy[0].content_security_policy == join("; ", local.edge_contract.security.content_security_policy)
    error_message = "the CSP is the contract's"
  }

  assert {
    condition     = strcontains(aws_cloudfront_response_headers_policy.edge["site"].security_headers_config[0].content_security_policy[0].content_security_policy, "script-src 'self'") && !strcontains(aws_cloudfront_response_headers_policy.edge["site"].security_headers_config[0].content_security_policy[0].content_security_policy, "unsafe-inline")
    error_message = "scripts only from the site itself, never inline"
  }

  assert {
    condition     = aws_cloudfront_response_headers_policy.edge["site"].security_headers_config[0].frame_options[0].frame_option == "DENY" && aws_cloudfront_response_headers_policy.edge["site"].security_headers_config[0].strict_transport_security[0].access_control_max_age_sec >= 31536000 && aws_cloudfront_response_headers_policy.edge["site"].security_headers_config[0].strict_transport_security[0].include_subdomains && aws_cloudfront_response_headers_policy.edge["site"].security_headers_config[0].content_type_options[0].override
    error_message = "the other security headers stay"
  }

  assert {
    condition = alltrue([
      for behaviour in concat(aws_cloudfront_distribution.this.default_cache_behavior, aws_cloudfront_distribution.this.ordered_cache_behavior) :
      behaviour.response_headers_policy_id == aws_cloudfront_response_headers_policy.edge[behaviour.target_origin_id == "read-api" ? "api" : "site"].id
    ])
    error_message = "every behaviour attaches a policy: the API's own, the others the site's"
  }

  assert {
    condition     = length(aws_cloudfront_response_headers_policy.edge) == 2 && aws_cloudfront_response_headers_policy.edge["api"].cors_config[0].access_control_allow_origins[0].items == aws_cloudfront_response_headers_policy.edge["site"].cors_config[0].access_control_allow_origins[0].items && aws_cloudfront_response_headers_policy.edge["api"].security_headers_config[0].content_security_policy[0].content_security_policy == aws_cloudfront_response_headers_policy.edge["site"].security_headers_config[0].content_security_policy[0].content_security_policy
    error_message = "the API's policy has the same CORS and CSP"
  }

  assert {
    condition     = one(one(aws_cloudfront_response_headers_policy.edge["site"].custom_headers_config).items).header == "X-Snapshot-Source" && one(one(aws_cloudfront_response_headers_policy.edge["site"].custom_headers_config).items).value == "s3" && one(one(aws_cloudfront_response_headers_policy.edge["site"].custom_headers_config).items).override == false
    error_message = "answers of the S3-first behaviours say X-Snapshot-Source: s3, as the local edge does, without overriding the read function's own value on failover"
  }

  assert {
    condition     = length(aws_cloudfront_response_headers_policy.edge["api"].custom_headers_config) == 0
    error_message = "the read API's answers carry only the function's own X-Snapshot-Source"
  }

  assert {
    condition = alltrue([
      for behaviour in concat(aws_cloudfront_distribution.this.default_cache_behavior, aws_cloudfront_distribution.this.ordered_cache_behavior) :
      behaviour.allowed_methods == toset(["GET", "HEAD", "OPTIONS"]) && behaviour.cached_methods == toset(["GET", "HEAD"])
    ])
    error_message = "every behaviour answers preflights and never caches them (the cache key has no Origin or Access-Control-Request-*)"
  }

  assert {
    condition     = toset([for behaviour in aws_cloudfront_distribution.this.ordered_cache_behavior : behaviour.path_pattern]) == toset(["/api/*", "/llms.json", "/llms", "/history/*", "/providers/*"])
    error_message = "the API, the snapshot and the per-model and per-provider URLs have their behaviours"
  }

  assert {
    condition = alltrue([
      for behaviour in aws_cloudfront_distribution.this.ordered_cache_behavior :
      behaviour.target_origin_id == (contains(["/api/*", "/history/*"], behaviour.path_pattern) ? "read-api" : "snapshot-with-api-failover")
    ])
    error_message = "the API and the histories go to the read API; the snapshot and provider files to S3 with failover to it"
  }

  assert {
    condition = aws_cloudfront_distribution.this.default_cache_behavior[0].origin_request_policy_id == "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf" && alltrue([
      for behaviour in aws_cloudfront_distribution.this.ordered_cache_behavior :
      contains(["/api/*", "/history/*"], behaviour.path_pattern) ? (behaviour.origin_request_policy_id == null || behaviour.origin_request_policy_id == "") : behaviour.origin_request_policy_id == "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
    ])
    error_message = "S3-first behaviours pass Origin and Access-Control-Request-* on (CORS-S3Origin); the read API's (/api/*, /history/*) forward no viewer header"
  }

  assert {
    condition     = one(aws_s3_bucket_cors_configuration.site.cors_rule).allowed_origins == toset(["*"]) && one(aws_s3_bucket_cors_configuration.site.cors_rule).allowed_methods == toset(["GET", "HEAD"])
    error_message = "S3 answers the preflight CloudFront passes on"
  }

  assert {
    condition     = one([for r in aws_cloudfront_distribution.this.custom_error_response : r.error_caching_min_ttl if r.error_code == 404]) == 0
    error_message = "a 404 is not cached: a name's 404 must not outlive its publication"
  }
}

run "the_emulator_references_the_managed_policy_instead" {
  command = plan

  variables {
    custom_response_headers_policy = false
  }

  assert {
    condition     = length(aws_cloudfront_response_headers_policy.edge) == 0 && alltrue([for behaviour in concat(aws_cloudfront_distribution.this.default_cache_behavior, aws_cloudfront_distribution.this.ordered_cache_behavior) : behaviour.response_headers_policy_id == "eaab4381-ed33-4a86-88ca-d9558dc6cd63"])
    error_message = "without the policy API the managed CORS-with-preflight-and-SecurityHeadersPolicy is attached"
  }
}
