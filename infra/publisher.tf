locals {
  publisher_zip = var.publisher_zip_path != "" ? var.publisher_zip_path : "${path.module}/../dist/publisher.zip"
  layers        = var.powertools_layer_arn != "" ? [var.powertools_layer_arn] : []

  common_environment = {
    TABLE_NAME                   = aws_dynamodb_table.this.name
    SITE_BUCKET                  = aws_s3_bucket.site.bucket
    CHANGES_LIMIT                = tostring(var.changes_limit)
    HISTORY_LIMIT                = tostring(var.history_limit)
    POWERTOOLS_METRICS_NAMESPACE = "LlmCatalogue"
    POWERTOOLS_LOG_LEVEL         = var.log_level
  }
}

module "publisher" {
  source = "./modules/function"

  name                 = local.publisher_name
  description          = "Applies DynamoDB stream batches to the site snapshot in S3; {\"action\": \"rebuild\"} rebuilds it."
  role_description     = "Execution role of the snapshot publisher."
  role_path            = local.service_role_path
  permissions_boundary = local.permissions_boundary
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  policy_name          = "publisher"
  policy_json          = data.aws_iam_policy_document.publisher.json
  log_retention_days   = var.log_retention_days
  kms_key_arn          = aws_kms_key.this.arn

  handler              = "publisher.publish.handler.handler"
  zip_path             = local.publisher_zip
  memory_mb            = var.publisher_memory_mb
  timeout_seconds      = var.publisher_timeout_seconds
  layers               = local.layers
  reserved_concurrency = var.publisher_reserved_concurrency
  tracing_mode         = "Active"
  # Failed asynchronous invocations (the scheduled rebuild) land in the DLQ after Lambda's retries.
  dead_letter_arn = aws_sqs_queue.publisher_dlq.arn

  environment = merge(local.common_environment, {
    PUBLIC_BASE_URL         = local.public_base_url
    POWERTOOLS_SERVICE_NAME = "publisher"
  })
}

resource "aws_sqs_queue" "publisher_dlq" {
  name                      = "${local.publisher_name}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.this.arn

  kms_data_key_reuse_period_seconds = 3600
}

# The stream trigger. A poison record is isolated by bisecting, retried a bounded number of times
# and then recorded (shard, sequence range, not the data) in the DLQ; the scheduled rebuild
# repairs whatever was skipped. ReportBatchItemFailures lets the handler name the first failed
# record so the records before it are not replayed.
resource "aws_lambda_event_source_mapping" "publisher" {
  count = var.enable_stream_trigger ? 1 : 0

  function_name     = module.publisher.arn
  event_source_arn  = aws_dynamodb_table.this.stream_arn
  starting_position = "TRIM_HORIZON"

  batch_size                         = var.stream_batch_size
  maximum_batching_window_in_seconds = var.stream_batching_window_seconds
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = var.stream_max_retries
  maximum_record_age_in_seconds      = var.stream_max_record_age_seconds
  parallelization_factor             = 1
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.publisher_dlq.arn
    }
  }

  # Paused and resumed by `python -m publisher trigger disable|enable` (SOLUTION.md section 16), never
  # by Terraform: a deploy during a rollback must not resume publishing and undo it. The cost: a
  # mapping left disabled stays so across deploys; publisher-iterator-age pages while it is.
  enabled = true
  lifecycle {
    ignore_changes = [enabled]
  }
}

resource "aws_scheduler_schedule" "reconcile" {
  count = var.enable_reconcile_schedule ? 1 : 0

  name                         = "${var.name}-reconcile"
  description                  = "Full rebuild of the snapshot from a paginated scan (repairs drift)."
  schedule_expression          = var.reconcile_schedule_expression
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = aws_kms_key.this.arn

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 5
  }

  target {
    arn      = module.publisher.arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = jsonencode({ action = "rebuild" })

    # A missed rebuild is harmless (the next one repairs the same drift); don't pile them up.
    retry_policy {
      maximum_event_age_in_seconds = 900
      maximum_retry_attempts       = 2
    }
  }

  # Paused with the stream trigger (`trigger disable`), not by Terraform: see the mapping above.
  state = "ENABLED"
  lifecycle {
    ignore_changes = [state]
  }
}
