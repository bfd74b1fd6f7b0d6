# CloudFront-scoped web ACLs exist only in us-east-1, hence the provider alias.
resource "aws_wafv2_web_acl" "this" {
  count    = var.enable_waf ? 1 : 0
  provider = aws.us_east_1

  name        = "${var.name}-edge"
  description = "AWS IP reputation and known-bad-inputs rules; rate limits per IP, per IP on /api/* and for /api/* as a whole."
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
  # query, method, path, label, JA3/JA4, and ASN in newer API versions; no IPv6 prefix), so this
  # rule alone does not bound such a client. The two /api/* rules below do.
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

  # /api/* runs code on a cache miss: a tighter limit per address there.
  rule {
    name     = "api-rate-limit-per-ip"
    priority = 40

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_api_rate_limit
        aggregate_key_type = "IP"

        scope_down_statement {
          byte_match_statement {
            positional_constraint = "STARTS_WITH"
            search_string         = "/api/"

            field_to_match {
              uri_path {}
            }

            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-api-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  # All /api/* requests counted together (aggregate key CONSTANT): however many IPv6 addresses a
  # client rotates through, the read function sees at most this many viewer requests per window.
  # The trade-off: during such a flood every /api/* reader is throttled with it (the snapshot
  # paths, /llms.json and the page, are not), instead of the bill growing with the flood.
  rule {
    name     = "api-rate-limit-total"
    priority = 50

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_api_total_rate_limit
        aggregate_key_type = "CONSTANT"

        scope_down_statement {
          byte_match_statement {
            positional_constraint = "STARTS_WITH"
            search_string         = "/api/"

            field_to_match {
              uri_path {}
            }

            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-api-rate-limit-total"
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
  waf_redacted_headers = ["authorization", "cookie", "proxy-authorization", "x-amz-security-token", "x-api-key"]
}
