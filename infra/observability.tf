locals {
  alarm_prefix = var.name

  # CloudWatch alarms can only notify a topic in their own region; CloudFront's metrics (and so
  # its alarm) live in us-east-1.
  edge_in_home_region = local.region == "us-east-1"
  edge_alarm_topic    = local.edge_in_home_region ? aws_sns_topic.alarms.arn : aws_sns_topic.edge_alarms[0].arn

  emf_namespace = "LlmCatalogue"
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.this.arn
}

# No e-mail subscription here: its endpoint (a person's address) would sit in this stack's state,
# which the plan role of every same-repo pull request reads. On-call subscribes once with its own
# credentials (infra/README.md, "Alert e-mails"); the subscriptions live on the topics, outside
# any state, and infra/moved.tf's `removed` blocks let an older deployment forget its own without
# unsubscribing anyone.

resource "aws_sns_topic" "edge_alarms" {
  count    = local.edge_in_home_region ? 0 : 1
  provider = aws.us_east_1

  name              = "${var.name}-edge-alarms"
  kms_master_key_id = local.edge_key_arn
}

# --- publisher ---------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "publisher_errors" {
  alarm_name          = "${local.alarm_prefix}-publisher-errors"
  alarm_description   = "The publisher failed (unhandled error or timeout); failed batches are retried, then go to the DLQ."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = module.publisher.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "publisher_iterator_age" {
  alarm_name          = "${local.alarm_prefix}-publisher-iterator-age"
  alarm_description   = "The stream trigger is falling behind: the oldest unprocessed record is older than ${var.iterator_age_alarm_ms} ms."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = module.publisher.function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.iterator_age_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "publisher_dlq" {
  alarm_name          = "${local.alarm_prefix}-publisher-dlq-messages"
  alarm_description   = "Stream batches or rebuilds were given up on; inspect the DLQ, then run a rebuild."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.publisher_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# The publisher reports a batch whose S3 writes failed as batch item failures (so the trigger
# retries it) instead of raising, which keeps it out of Lambda's Errors metric: count it here.
resource "aws_cloudwatch_metric_alarm" "publish_failures" {
  alarm_name          = "${local.alarm_prefix}-publish-failures"
  alarm_description   = "The publisher could not write the snapshot (S3 errors or lost races) in 3 consecutive minutes."
  namespace           = local.emf_namespace
  metric_name         = "PublishFailures"
  dimensions          = { service = "publisher" }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- read API ----------------------------------------------------------------------------------
# Its availability is an SLO with burn-rate alerts (slo.tf), which replaced the static error and
# 5xx alarms; these two catch causes and latency, and open tickets.

resource "aws_cloudwatch_metric_alarm" "read_throttles" {
  alarm_name          = "${local.alarm_prefix}-read-throttles"
  alarm_description   = "TICKET: the read API hit its reserved concurrency; raise var.read_reserved_concurrency or look for abuse."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = module.read.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.tickets.arn]
  ok_actions          = [aws_sns_topic.tickets.arn]
}

resource "aws_cloudwatch_metric_alarm" "read_p99_duration" {
  alarm_name          = "${local.alarm_prefix}-read-p99-duration"
  alarm_description   = "TICKET: read API p99 duration above ${var.read_p99_duration_alarm_ms} ms for 15 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = module.read.function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.read_p99_duration_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.tickets.arn]
  ok_actions          = [aws_sns_topic.tickets.arn]
}

# --- dashboard ---------------------------------------------------------------------------------
# Per SLO: its SLI, the error budget left over the SLO period, and the burn rate over the fast
# tier's two windows against the tiers' thresholds, from the same queries as its alerts (slo.tf).
# Then the causes: freshness as the canary sees it against the publisher's own lag, the publisher,
# the read API, CloudFront, and every alert.

locals {
  slo_order = ["edge_availability", "api_availability", "freshness"]
  # A dashboard metric row: namespace, name, dimension pairs, then its rendering options.
  slo_metric_rows = {
    for slo_name, source in local.slo_sources : slo_name => [
      for id, metric in source.metrics : concat(
        [metric.namespace, metric.name],
        flatten([for key, value in metric.dimensions : [key, value]]),
        [{ id = id, stat = metric.stat, visible = false }],
      )
    ]
  }
  slo_widgets = flatten([
    for index, slo_name in local.slo_order : [
      {
        type = "metric", x = 0, y = index * 6, width = 8, height = 6
        properties = {
          title  = "${replace(slo_name, "_", " ")}: SLI (%), target ${local.slo.slos[slo_name].target_percent}%"
          region = local.slo_sources[slo_name].region == "home" ? local.region : "us-east-1"
          view   = "timeSeries", period = 300
          metrics = concat(local.slo_metric_rows[slo_name], [
            [{ expression = "100 * (1 - (${local.slo_sources[slo_name].ratio}))", label = "SLI", id = "sli" }],
          ])
          annotations = { horizontal = [{ label = "target", value = local.slo.slos[slo_name].target * 100 }] }
        }
      },
      {
        type = "metric", x = 8, y = index * 6, width = 8, height = 6
        properties = {
          title  = "${replace(slo_name, "_", " ")}: error budget left over the last ${local.slo.period_days} days (%)"
          region = local.slo_sources[slo_name].region == "home" ? local.region : "us-east-1"
          view   = "singleValue", start = "-P${local.slo.period_days}D", setPeriodToTimeRange = true
          period = local.slo.period_days * 86400
          metrics = concat(local.slo_metric_rows[slo_name], [
            [{ expression = "100 * (1 - (${local.slo_sources[slo_name].ratio}) / ${local.slo.slos[slo_name].error_budget})", label = "budget left", id = "budget" }],
          ])
        }
      },
      {
        type = "metric", x = 16, y = index * 6, width = 8, height = 6
        properties = {
          title  = "${replace(slo_name, "_", " ")}: burn rate (${local.slo.tiers.fast.short_window_label} points)"
          region = local.slo_sources[slo_name].region == "home" ? local.region : "us-east-1"
          view   = "timeSeries", period = local.slo.tiers.fast.short_window_seconds
          metrics = concat(local.slo_metric_rows[slo_name], [
            [{ expression = "(${local.slo_sources[slo_name].ratio}) / ${local.slo.slos[slo_name].error_budget}", label = "burn rate", id = "burn" }],
          ])
          annotations = { horizontal = [for tier_name, tier in local.slo.tiers : { label = "${tier_name} (${tier.severity})", value = tier.burn_rate }] }
        }
      },
    ]
  ])
  cause_y = length(local.slo_order) * 6
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = concat(local.slo_widgets, [
      {
        type = "metric", x = 0, y = local.cause_y, width = 12, height = 6
        properties = {
          title = "Freshness: the canary's write to edge (s) against the publisher's own lag", region = local.region
          view  = "timeSeries", period = 60, stat = "Maximum"
          metrics = [
            [local.canary.namespace, local.canary.metrics.freshness, "service", local.canary.service, { label = "canary: write to edge" }],
            [local.emf_namespace, "PublishLagSeconds", "service", "publisher", { label = "publisher: stream record to publish" }],
            ["AWS/Lambda", "IteratorAge", "FunctionName", module.publisher.function_name, { stat = "Maximum", yAxis = "right", label = "IteratorAge (ms)" }],
          ]
          annotations = { horizontal = [{ label = "SLO threshold", value = local.slo.slos.freshness.threshold_seconds }] }
        }
      },
      {
        type = "metric", x = 12, y = local.cause_y, width = 12, height = 6
        properties = {
          title = "Publisher", region = local.region, view = "timeSeries", period = 300, stat = "Sum"
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", module.publisher.function_name],
            ["AWS/Lambda", "Errors", "FunctionName", module.publisher.function_name],
            [local.emf_namespace, "InvalidRecords", "service", "publisher"],
            [local.emf_namespace, "WriteConflicts", "service", "publisher"],
            [local.emf_namespace, "DriftRepaired", "service", "publisher"],
            [local.emf_namespace, "PublishFailures", "service", "publisher"],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.publisher_dlq.name, { stat = "Maximum" }],
          ]
        }
      },
      {
        # The routine figures of each publish are fields of its log line, not custom metrics
        # (each would be billed every hour); a Logs Insights widget charts them when viewed.
        type = "log", x = 0, y = local.cause_y + 6, width = 12, height = 6
        properties = {
          title   = "Publish cost (from the publisher's log lines)", region = local.region, view = "timeSeries"
          query   = "SOURCE '${module.publisher.log_group_name}' | filter ispresent(written) | stats sum(received) as received, sum(changed) as applied, sum(written) as objects, max(bytes) as bytes, pct(duration_ms, 99) as p99_ms by bin(5m)"
          stacked = false
        }
      },
      {
        type = "metric", x = 12, y = local.cause_y + 6, width = 12, height = 6
        properties = {
          title = "Read API", region = local.region, view = "timeSeries", period = 300
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", module.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Errors", "FunctionName", module.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Throttles", "FunctionName", module.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Duration", "FunctionName", module.read.function_name, { stat = "p99", yAxis = "right" }],
            ["AWS/Lambda", "UrlRequestCount", "FunctionName", module.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Url5xxCount", "FunctionName", module.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Url4xxCount", "FunctionName", module.read.function_name, { stat = "Sum" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = local.cause_y + 12, width = 24, height = 6
        properties = {
          title = "CloudFront", region = "us-east-1", view = "timeSeries", period = 300
          metrics = [
            ["AWS/CloudFront", "Requests", "DistributionId", aws_cloudfront_distribution.this.id, "Region", "Global", { stat = "Sum" }],
            ["AWS/CloudFront", "5xxErrorRate", "DistributionId", aws_cloudfront_distribution.this.id, "Region", "Global", { stat = "Average", yAxis = "right" }],
            ["AWS/CloudFront", "4xxErrorRate", "DistributionId", aws_cloudfront_distribution.this.id, "Region", "Global", { stat = "Average", yAxis = "right" }],
          ]
        }
      },
      {
        # The alarm widget reads alarms of the dashboard's region: the edge SLO's alerts, in
        # us-east-1, show here only when that is the stack's region.
        type = "alarm", x = 0, y = local.cause_y + 18, width = 24, height = 6
        properties = {
          title = "Alerts"
          alarms = concat(
            [for alarm in aws_cloudwatch_composite_alarm.burn : alarm.arn],
            local.edge_in_home_region ? [for alarm in aws_cloudwatch_composite_alarm.edge_burn : alarm.arn] : [],
            [
              aws_cloudwatch_metric_alarm.canary_not_running.arn,
              aws_cloudwatch_metric_alarm.canary_checks.arn,
              aws_cloudwatch_metric_alarm.publisher_errors.arn,
              aws_cloudwatch_metric_alarm.publish_failures.arn,
              aws_cloudwatch_metric_alarm.publisher_iterator_age.arn,
              aws_cloudwatch_metric_alarm.publisher_dlq.arn,
              aws_cloudwatch_metric_alarm.read_throttles.arn,
              aws_cloudwatch_metric_alarm.read_p99_duration.arn,
            ],
          )
        }
      },
    ])
  })
}
