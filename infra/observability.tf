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

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email != "" ? 1 : 0

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_sns_topic" "edge_alarms" {
  count    = local.edge_in_home_region ? 0 : 1
  provider = aws.us_east_1

  name              = "${var.name}-edge-alarms"
  kms_master_key_id = local.edge_key_arn
}

resource "aws_sns_topic_subscription" "edge_alarm_email" {
  count    = !local.edge_in_home_region && var.alarm_email != "" ? 1 : 0
  provider = aws.us_east_1

  topic_arn = aws_sns_topic.edge_alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- publisher ---------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "publisher_errors" {
  alarm_name          = "${local.alarm_prefix}-publisher-errors"
  alarm_description   = "The publisher failed (unhandled error or timeout); failed batches are retried, then go to the DLQ."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.publisher.function_name }
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
  dimensions          = { FunctionName = aws_lambda_function.publisher.function_name }
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

# Staleness from the publisher's own EMF metric: seconds from a record's creation in the stream
# to the snapshot that contains it being written. Maximum, because one stale model is stale.
resource "aws_cloudwatch_metric_alarm" "snapshot_staleness" {
  alarm_name          = "${local.alarm_prefix}-snapshot-staleness"
  alarm_description   = "Published snapshot lags the table by more than ${var.staleness_alarm_seconds} s."
  namespace           = local.emf_namespace
  metric_name         = "PublishLagSeconds"
  dimensions          = { service = "publisher" }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.staleness_alarm_seconds
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

resource "aws_cloudwatch_metric_alarm" "read_errors" {
  alarm_name          = "${local.alarm_prefix}-read-errors"
  alarm_description   = "The read API raised unhandled errors or timed out (bad input is a 4xx, not an error)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.read.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.read_errors_alarm_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "read_throttles" {
  alarm_name          = "${local.alarm_prefix}-read-throttles"
  alarm_description   = "The read API hit its reserved concurrency; raise var.read_reserved_concurrency or look for abuse."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.read.function_name }
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

resource "aws_cloudwatch_metric_alarm" "read_p99_duration" {
  alarm_name          = "${local.alarm_prefix}-read-p99-duration"
  alarm_description   = "Read API p99 duration above ${var.read_p99_duration_alarm_ms} ms for 15 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.read.function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.read_p99_duration_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${local.alarm_prefix}-api-5xx"
  alarm_description   = "The read API's function URL answered 5xx (function errors, timeouts, throttles) to CloudFront."
  namespace           = "AWS/Lambda"
  metric_name         = "Url5xxCount"
  dimensions          = { FunctionName = aws_lambda_function.read.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.api_5xx_alarm_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- edge --------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "cloudfront_5xx_rate" {
  provider = aws.us_east_1

  alarm_name          = "${local.alarm_prefix}-cloudfront-5xx-rate"
  alarm_description   = "Readers see 5xx from CloudFront (both origins failing) above ${var.cloudfront_5xx_rate_alarm_percent}%."
  namespace           = "AWS/CloudFront"
  metric_name         = "5xxErrorRate"
  dimensions          = { DistributionId = aws_cloudfront_distribution.this.id, Region = "Global" }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.cloudfront_5xx_rate_alarm_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [local.edge_alarm_topic]
  ok_actions          = [local.edge_alarm_topic]
}

# --- dashboard ---------------------------------------------------------------------------------

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "Snapshot freshness (s)", region = local.region, view = "timeSeries"
          period = 60, stat = "Maximum"
          metrics = [
            [local.emf_namespace, "PublishLagSeconds", "service", "publisher"],
            ["AWS/Lambda", "IteratorAge", "FunctionName", aws_lambda_function.publisher.function_name, { stat = "Maximum", yAxis = "right", label = "IteratorAge (ms)" }],
          ]
          annotations = { horizontal = [{ label = "staleness alarm", value = var.staleness_alarm_seconds }] }
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title = "Publisher", region = local.region, view = "timeSeries", period = 300, stat = "Sum"
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.publisher.function_name],
            ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.publisher.function_name],
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
        type = "log", x = 0, y = 6, width = 12, height = 6
        properties = {
          title   = "Publish cost (from the publisher's log lines)", region = local.region, view = "timeSeries"
          query   = "SOURCE '${aws_cloudwatch_log_group.publisher.name}' | filter ispresent(written) | stats sum(received) as received, sum(changed) as applied, sum(written) as objects, max(bytes) as bytes, pct(duration_ms, 99) as p99_ms by bin(5m)"
          stacked = false
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title = "Read API", region = local.region, view = "timeSeries", period = 300
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.read.function_name, { stat = "p99", yAxis = "right" }],
            ["AWS/Lambda", "UrlRequestCount", "FunctionName", aws_lambda_function.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Url5xxCount", "FunctionName", aws_lambda_function.read.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Url4xxCount", "FunctionName", aws_lambda_function.read.function_name, { stat = "Sum" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 24, height = 6
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
        type = "alarm", x = 0, y = 18, width = 24, height = 4
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_metric_alarm.publisher_errors.arn,
            aws_cloudwatch_metric_alarm.publisher_iterator_age.arn,
            aws_cloudwatch_metric_alarm.publisher_dlq.arn,
            aws_cloudwatch_metric_alarm.snapshot_staleness.arn,
            aws_cloudwatch_metric_alarm.read_errors.arn,
            aws_cloudwatch_metric_alarm.read_throttles.arn,
            aws_cloudwatch_metric_alarm.read_p99_duration.arn,
            aws_cloudwatch_metric_alarm.api_5xx.arn,
          ]
        }
      },
    ]
  })
}
