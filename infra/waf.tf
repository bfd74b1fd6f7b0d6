# CloudFront-scoped web ACLs exist only in us-east-1, hence the provider alias.
resource "aws_wafv2_web_acl" "this" {
  count    = var.enable_waf ? 1 : 0
  provider = aws.us_east_1

  name        = "${var.name}-edge"
  description = "AWS IP reputation and known-bad-inputs rules; rate limits per IP, and tighter ones per IP on the paths that run code."
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  # AWS's list of addresses seen in bots, scans and attacks (Amazon threat intelligence).
  rule {
    name     = "aws-ip-reputation"
    priority = 10

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAmazonIpReputationList"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-ip-reputation"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-known-bad-inputs"
    priority = 20

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  # Every path, per client address. With IPv6 on, one client may hold a whole /64 (2^64
  # addresses) and WAF cannot aggregate by prefix (its keys are IP, forwarded IP, header, cookie,
  # query, method, path, label, JA3/JA4, and ASN in newer API versions; no IPv6 prefix), so no
  # per-address rule bounds such a client: the read function's reserved concurrency does
  # (SOLUTION.md section 8 states what that still costs).
  rule {
    name     = "rate-limit-per-ip"
    priority = 30

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  # Tighter limits per address on every path that can run code: the function's paths (/api/*,
  # /history/*: the query string is in their cache key, so each new one is an invocation) and the
  # failover paths (S3 first, the function when S3 cannot answer, as for a made-up
  # /providers/<x>.json, whose 404 is not cached). Both lists are the CDN's own behaviours
  # (local.waf_code_paths below). No all-clients limit: WAF sees every viewer request, cache hits
  # included, so a constant-key limit would let one client holding many addresses block the API for
  # everyone; the bound on what reaches the origin is the read function's reserved concurrency.
  rule {
    name     = "function-paths-rate-limit-per-ip"
    priority = 40

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_api_rate_limit
        aggregate_key_type = "IP"

        scope_down_statement {
          or_statement {
            dynamic "statement" {
              for_each = local.waf_code_paths["function"]

              content {
                byte_match_statement {
                  positional_constraint = endswith(statement.value, "/") ? "STARTS_WITH" : "EXACTLY"
                  search_string         = statement.value

                  field_to_match {
                    uri_path {}
                  }

                  dynamic "text_transformation" {
                    for_each = local.waf_path_transformations

                    content {
                      priority = text_transformation.key
                      type     = text_transformation.value
                    }
                  }
                }
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-function-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "failover-paths-rate-limit-per-ip"
    priority = 50

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_failover_rate_limit
        aggregate_key_type = "IP"

        scope_down_statement {
          or_statement {
            dynamic "statement" {
              for_each = local.waf_code_paths["failover"]

              content {
                byte_match_statement {
                  positional_constraint = endswith(statement.value, "/") ? "STARTS_WITH" : "EXACTLY"
                  search_string         = statement.value

                  field_to_match {
                    uri_path {}
                  }

                  dynamic "text_transformation" {
                    for_each = local.waf_path_transformations

                    content {
                      priority = text_transformation.key
                      type     = text_transformation.value
                    }
                  }
                }
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-failover-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-edge"
    sampled_requests_enabled   = true
  }
}

# WAF logs for CloudFront must live in us-east-1, so they are encrypted with the stack's key there
# (kms.tf: the service key itself when the stack runs in us-east-1, its us-east-1 sibling if not).
resource "aws_cloudwatch_log_group" "waf" {
  # checkov:skip=CKV_AWS_338:Operational logs: retention is var.log_retention_days (30 by default) to bound cost.
  count    = var.enable_waf ? 1 : 0
  provider = aws.us_east_1

  # WAF only delivers to log groups whose name starts with aws-waf-logs-.
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.edge_key_arn
}

# Only requests a rule blocked or counted are logged (an allowed request leaves no record), and
# their credentials-bearing headers are redacted: the logs show attacks, not readers.
resource "aws_wafv2_web_acl_logging_configuration" "this" {
  count    = var.enable_waf ? 1 : 0
  provider = aws.us_east_1

  resource_arn            = aws_wafv2_web_acl.this[0].arn
  log_destination_configs = [aws_cloudwatch_log_group.waf[0].arn]

  logging_filter {
    default_behavior = "DROP"

    filter {
      behavior    = "KEEP"
      requirement = "MEETS_ANY"

      condition {
        action_condition {
          action = "BLOCK"
        }
      }

      condition {
        action_condition {
          action = "COUNT"
        }
      }
    }
  }

  dynamic "redacted_fields" {
    for_each = local.waf_redacted_headers

    content {
      single_header {
        name = redacted_fields.value
      }
    }
  }
}

locals {
  # The CDN's behaviours by origin (cdn.tf, from publisher/core/edge_contract.json): "/api/*" is
  # matched as the prefix "/api/", a top-level path such as "/llms.json" exactly.
  waf_code_paths = { for origin, patterns in local.route_patterns : origin => [for p in patterns : trimsuffix(p, "*")] }
  # /%61pi/, //api/ and /x/../api/ reach the same behaviour as /api/: the rules match what it sees.
  waf_path_transformations = ["URL_DECODE", "NORMALIZE_PATH"]
  waf_redacted_headers     = ["authorization", "cookie", "proxy-authorization", "x-amz-security-token", "x-api-key"]
}
