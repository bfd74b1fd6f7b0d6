# The freshness canary: a scheduled Lambda that writes the reserved heartbeat item through the table
# (as every writer does), times it to the edge (health.json through CloudFront, read as a browser
# reads it, at sparse polls), checks /llms.json
# and /api/health, and publishes the SLI as EMF metrics. A scheduled Lambda, not CloudWatch
# Synthetics: Synthetics bills every run (about $0.0012, so ~$10/month at one run every 5 minutes) on top of
# its own Lambda; this costs a few cents of Lambda time a month (scripts/cost_model.py).

locals {
  # One source for thresholds, metric names and the heartbeat key: scripts/slo_config.py writes it
  # from publisher/core/slo.py and the canary's code; nothing here restates a number.
  slo         = jsondecode(file("${path.module}/slo.json"))
  canary      = local.slo.canary
  canary_name = "${var.name}-canary"
  canary_zip  = var.canary_zip_path != "" ? var.canary_zip_path : "${path.module}/../dist/canary.zip"
}

data "aws_iam_policy_document" "canary" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${module.canary.log_group_arn}:*"]
  }

  # PutItem on the table, and only for items whose partition key is the heartbeat's: the canary
  # can neither read nor touch a model.
  statement {
    sid       = "WriteOnlyTheHeartbeat"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.this.arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [local.canary.heartbeat_key]
    }
  }

  # The table is encrypted with the service key.
  statement {
    sid       = "UseServiceKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

module "canary" {
  source = "./modules/function"

  name                 = local.canary_name
  description          = "Freshness canary: heartbeat through the table to the edge, plus /llms.json and /api/health checks."
  role_description     = "Execution role of the freshness canary: it may write only its heartbeat item."
  role_path            = local.service_role_path
  permissions_boundary = local.permissions_boundary
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  policy_name          = "canary"
  policy_json          = data.aws_iam_policy_document.canary.json
  log_retention_days   = var.log_retention_days
  kms_key_arn          = aws_kms_key.this.arn

  handler   = "publisher.canary.handler.handler"
  zip_path  = local.canary_zip
  memory_mb = 128
  # The probe waits at most timeout_seconds for its heartbeat; a minute more covers the checks.
  timeout_seconds = local.canary.timeout_seconds + 60
  # Not traced: every run's timings are in its metrics and log line.
  tracing_mode = "PassThrough"

  environment = {
    CANARY_BASE_URL        = local.public_base_url
    TABLE_NAME             = aws_dynamodb_table.this.name
    CANARY_TIMEOUT_SECONDS = tostring(local.canary.timeout_seconds)
  }
}

# A late or failed run is not retried: each run is one sample of the SLI at its own time.
resource "aws_lambda_function_event_invoke_config" "canary" {
  function_name                = module.canary.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}

data "aws_iam_policy_document" "canary_scheduler" {
  statement {
    sid       = "InvokeCanary"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.canary.arn]
  }

  statement {
    sid       = "DecryptScheduleInput"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role" "canary_scheduler" {
  count = var.enable_canary_schedule ? 1 : 0

  name                 = "${var.name}-canary-scheduler-role"
  path                 = local.service_role_path
  permissions_boundary = local.permissions_boundary
  description          = "EventBridge Scheduler invokes the freshness canary."
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "canary_scheduler" {
  count = var.enable_canary_schedule ? 1 : 0

  name   = "invoke-canary"
  role   = aws_iam_role.canary_scheduler[0].id
  policy = data.aws_iam_policy_document.canary_scheduler.json
}

resource "aws_scheduler_schedule" "canary" {
  count = var.enable_canary_schedule ? 1 : 0

  name                         = "${var.name}-canary"
  description                  = "Freshness canary: one probe per run."
  schedule_expression          = var.canary_schedule_expression
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = aws_kms_key.this.arn

  # Exact times: each burn-rate alarm's 5-minute window expects one sample.
  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.canary.arn
    role_arn = aws_iam_role.canary_scheduler[0].arn
    input    = jsonencode({ source = "schedule" })

    retry_policy {
      maximum_event_age_in_seconds = 60
      maximum_retry_attempts       = 0
    }
  }

  # Its heartbeats publish (through the stream), so `trigger disable` pauses it with the other
  # paths, and a deploy leaves that alone (publisher.tf's mapping says why); canary-not-running
  # pages while it is paused.
  state = "ENABLED"
  lifecycle {
    ignore_changes = [state]
  }
}
