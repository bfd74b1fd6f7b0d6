# Multiwindow, multi-burn-rate alerting on the SLOs (Google SRE Workbook, "Alerting on SLOs").
#
# For each SLO and each tier, two metric-math alarms compute the burn rate (bad-event ratio divided
# by the error budget) over the tier's long and short windows; they notify nobody. A composite alarm
# fires only when both are above the tier's burn rate, and notifies: pages to the alarm topic,
# tickets to the ticket topic. Targets, budgets, windows and burn rates come from slo.json, which
# scripts/slo_config.py writes from publisher/core/slo.py (unit-tested there); nothing here restates one.
#
# Each window is one alarm period evaluated once (a 3-day period is allowed: PutMetricAlarm caps
# period x evaluation periods at 7 days for periods of an hour or more).

locals {
  # How each SLO's bad-event ratio is read from CloudWatch: the metrics (queried over the window)
  # and the metric-math expression of the ratio. The edge SLO's metrics exist only in us-east-1.
  slo_sources = {
    edge_availability = {
      region = "us-east-1"
      # CloudFront publishes the share of 5xx answers per minute; its Average over the window is the
      # mean of those minutes (not weighted by traffic: a bad quiet minute weighs as much as a bad
      # busy one, which errs towards alerting).
      metrics = {
        rate = {
          namespace  = "AWS/CloudFront"
          name       = "5xxErrorRate"
          dimensions = { DistributionId = aws_cloudfront_distribution.this.id, Region = "Global" }
          stat       = "Average"
        }
      }
      ratio = "FILL(rate, 0) / 100"
    }
    # The read API's function URL: its 5xx answers (function errors, timeouts, throttles) over all
    # it answered, CloudFront's failover requests for /llms.json and /llms included.
    api_availability = {
      region = "home"
      metrics = {
        bad = {
          namespace  = "AWS/Lambda"
          name       = "Url5xxCount"
          dimensions = { FunctionName = module.read.function_name }
          stat       = "Sum"
        }
        total = {
          namespace  = "AWS/Lambda"
          name       = "UrlRequestCount"
          dimensions = { FunctionName = module.read.function_name }
          stat       = "Sum"
        }
      }
      ratio = "IF(total > 0, FILL(bad, 0) / total, 0)"
    }
    freshness = {
      region = "home"
      metrics = {
        bad = {
          namespace  = local.canary.namespace
          name       = local.canary.metrics.breaches
          dimensions = { service = local.canary.service }
          stat       = "Sum"
        }
        total = {
          namespace  = local.canary.namespace
          name       = local.canary.metrics.probes
          dimensions = { service = local.canary.service }
          stat       = "Sum"
        }
      }
      # Breaches are sent only when there is one (a custom metric bills in every hour it has data).
      ratio = "IF(total > 0, FILL(bad, 0) / total, 0)"
    }
  }

  burn_pairs = merge([
    for slo_name, source in local.slo_sources : {
      for tier_name, tier in local.slo.tiers : "${slo_name}.${tier_name}" => {
        slo      = slo_name
        tier     = tier_name
        region   = source.region
        name     = "${var.name}-${replace(slo_name, "_", "-")}-${tier_name}-burn"
        severity = tier.severity
        summary  = "${local.slo.slos[slo_name].sli}: ${tier.budget_percent}% of the ${local.slo.period_days}-day error budget (target ${local.slo.slos[slo_name].target_percent}%) spent within ${tier.long_window_label}, and still burning over the last ${tier.short_window_label} (burn rate above ${tier.burn_rate}, error ratio above ${local.slo.slos[slo_name].alerts[tier_name].error_ratio_percent}%)."
      }
    }
  ]...)

  burn_windows = merge([
    for key, pair in local.burn_pairs : {
      for window in ["long", "short"] : "${key}.${window}" => merge(pair, {
        alarm  = "${pair.name}-${local.slo.tiers[pair.tier]["${window}_window_label"]}"
        period = local.slo.tiers[pair.tier]["${window}_window_seconds"]
        # The burn rate: the window's bad-event ratio over the SLO's error budget.
        expression = "(${local.slo_sources[pair.slo].ratio}) / ${local.slo.slos[pair.slo].error_budget}"
        metrics    = local.slo_sources[pair.slo].metrics
        threshold  = local.slo.tiers[pair.tier].burn_rate
      })
    }
  ]...)

  page_topic        = aws_sns_topic.alarms.arn
  ticket_topic      = aws_sns_topic.tickets.arn
  edge_page_topic   = local.edge_alarm_topic
  edge_ticket_topic = local.edge_in_home_region ? aws_sns_topic.tickets.arn : aws_sns_topic.edge_tickets[0].arn
}

resource "aws_sns_topic" "tickets" {
  name              = "${var.name}-tickets"
  kms_master_key_id = aws_kms_key.this.arn
}

resource "aws_sns_topic" "edge_tickets" {
  # checkov:skip=CKV_AWS_26:Exists only when the stack is outside us-east-1; the service key is regional and the topic carries alarm state changes only, no data.
  count    = local.edge_in_home_region ? 0 : 1
  provider = aws.us_east_1

  name = "${var.name}-edge-tickets"
}

# --- the windows (no actions of their own) ------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "burn_window" {
  # checkov:skip=CKV_AWS_319:One window of a multiwindow alert notifies nobody on its own; its composite alarm (both windows agreeing) has the actions.
  for_each = { for key, window in local.burn_windows : key => window if window.region == "home" }

  alarm_name          = each.value.alarm
  alarm_description   = "One window of ${each.value.name}; it notifies through that composite alarm."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  dynamic "metric_query" {
    for_each = each.value.metrics
    content {
      id = metric_query.key
      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.name
        dimensions  = metric_query.value.dimensions
        stat        = metric_query.value.stat
        period      = each.value.period
      }
    }
  }

  metric_query {
    id          = "burn"
    expression  = each.value.expression
    label       = "burn rate over ${each.value.alarm}"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "edge_burn_window" {
  # checkov:skip=CKV_AWS_319:One window of a multiwindow alert notifies nobody on its own; its composite alarm (both windows agreeing) has the actions.
  provider = aws.us_east_1
  for_each = { for key, window in local.burn_windows : key => window if window.region == "us-east-1" }

  alarm_name          = each.value.alarm
  alarm_description   = "One window of ${each.value.name}; it notifies through that composite alarm."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  dynamic "metric_query" {
    for_each = each.value.metrics
    content {
      id = metric_query.key
      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.name
        dimensions  = metric_query.value.dimensions
        stat        = metric_query.value.stat
        period      = each.value.period
      }
    }
  }

  metric_query {
    id          = "burn"
    expression  = each.value.expression
    label       = "burn rate over ${each.value.alarm}"
    return_data = true
  }
}

# --- the alerts: both windows must agree -------------------------------------------------------

resource "aws_cloudwatch_composite_alarm" "burn" {
  for_each = { for key, pair in local.burn_pairs : key => pair if pair.region == "home" }

  alarm_name        = each.value.name
  alarm_description = "${upper(each.value.severity)}: ${each.value.summary} Runbook: SOLUTION.md, \"Runbook\"."
  alarm_rule = join(" AND ", [
    for window in ["long", "short"] : "ALARM(\"${aws_cloudwatch_metric_alarm.burn_window["${each.key}.${window}"].alarm_name}\")"
  ])
  actions_enabled = true
  alarm_actions   = [each.value.severity == "page" ? local.page_topic : local.ticket_topic]
  ok_actions      = [each.value.severity == "page" ? local.page_topic : local.ticket_topic]
}

resource "aws_cloudwatch_composite_alarm" "edge_burn" {
  provider = aws.us_east_1
  for_each = { for key, pair in local.burn_pairs : key => pair if pair.region == "us-east-1" }

  alarm_name        = each.value.name
  alarm_description = "${upper(each.value.severity)}: ${each.value.summary} Runbook: SOLUTION.md, \"Runbook\"."
  alarm_rule = join(" AND ", [
    for window in ["long", "short"] : "ALARM(\"${aws_cloudwatch_metric_alarm.edge_burn_window["${each.key}.${window}"].alarm_name}\")"
  ])
  actions_enabled = true
  alarm_actions   = [each.value.severity == "page" ? local.edge_page_topic : local.edge_ticket_topic]
  ok_actions      = [each.value.severity == "page" ? local.edge_page_topic : local.edge_ticket_topic]
}

# --- the canary itself ------------------------------------------------------------------------

# Without samples the freshness SLO is blind (its windows see no data and stay quiet): page.
resource "aws_cloudwatch_metric_alarm" "canary_not_running" {
  alarm_name          = "${var.name}-canary-not-running"
  alarm_description   = "PAGE: no freshness canary result for 10 minutes; freshness is not measured. Runbook: SOLUTION.md, \"Runbook\"."
  namespace           = local.canary.namespace
  metric_name         = local.canary.metrics.probes
  dimensions          = { service = local.canary.service }
  statistic           = "SampleCount"
  period              = 300
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  actions_enabled     = true
  alarm_actions       = [local.page_topic]
  ok_actions          = [local.page_topic]
}

# The canary's other checks: /llms.json invalid, not 200 or not from S3 (the failover answering: the
# object is missing), the version going back, /api/health down, the heartbeat in the catalogue.
# Two runs in a row (one every 5 minutes), so one slow request is not a page.
resource "aws_cloudwatch_metric_alarm" "canary_checks" {
  alarm_name          = "${var.name}-canary-checks"
  alarm_description   = "PAGE: two canary runs in a row failed a check other than freshness (the canary's log names it). Runbook: SOLUTION.md, \"Runbook\"."
  namespace           = local.canary.namespace
  metric_name         = local.canary.metrics.check_failures
  dimensions          = { service = local.canary.service }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [local.page_topic]
  ok_actions          = [local.page_topic]
}
