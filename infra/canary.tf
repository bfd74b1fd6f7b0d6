# The freshness canary: a scheduled Lambda that writes the reserved heartbeat item through the table
# (as every writer does), times it to the edge (health.json through CloudFront), checks /llms.json
# and /api/health, and publishes the SLI as EMF metrics. A scheduled Lambda, not CloudWatch
# Synthetics: Synthetics bills every run (about $0.0012, so ~$52/month at one run a minute) on top of
# its own Lambda; this costs a few cents of Lambda time a month (scripts/cost_model.py).

locals {
  # One source for thresholds, metric names and the heartbeat key: scripts/slo_config.py writes it
  # from publisher/core/slo.py and the canary's code; nothing here restates a number.
  slo         = jsondecode(file("${path.module}/slo.json"))
  canary      = local.slo.canary
  canary_name = "${var.name}-canary"
  canary_zip  = var.canary_zip_path != "" ? var.canary_zip_path : "${path.module}/../dist/canary.zip"
}

resource "aws_cloudwatch_log_group" "canary" {
  # checkov:skip=CKV_AWS_338:Operational logs: retention is var.log_retention_days (30 by default) to bound cost; the SLI itself is a metric (15 months).
  name              = "/aws/lambda/${local.canary_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_iam_role" "canary" {
  name                 = "${local.canary_name}-role"
  path                 = local.service_role_path
  permissions_boundary = local.permissions_boundary
  description          = "Execution role of the freshness canary: it may write only its heartbeat item."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "canary" {
  name   = "canary"
  role   = aws_iam_role.canary.id
  policy = data.aws_iam_policy_document.canary.json
}

data "aws_iam_policy_document" "canary" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.canary.arn}:*"]
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

resource "aws_lambda_function" "canary" {
  # checkov:skip=CKV_AWS_117:It talks to the public CloudFront URL and DynamoDB; a VPC would add NAT cost and measure a path readers never take.
  # checkov:skip=CKV_AWS_173:The environment holds only a URL, a table name and a timeout, no secrets.
  # checkov:skip=CKV_AWS_272:Zips are built reproducibly (same sha256 twice) in CI and deployed only through the OIDC deploy role; an AWS Signer profile adds no control here.
  # checkov:skip=CKV_AWS_116:A failed run is a missed probe, counted by the canary-not-running alarm; a retried or dead-lettered run would only skew the SLI.
  # checkov:skip=CKV_AWS_50:Not traced: every run's timings are in its metrics and log line; Active tracing would bill a trace a minute for nothing new.
  # checkov:skip=CKV_AWS_115:The schedule bounds it (one run a minute, runs end within the timeout); reserving concurrency would take from the account's pool for nothing.
  function_name    = local.canary_name
  description      = "Freshness canary: heartbeat through the table to the edge, plus /llms.json and /api/health checks."
  role             = aws_iam_role.canary.arn
  runtime          = "python3.13"
  architectures    = ["arm64"]
  handler          = "publisher.canary.handler.handler"
  filename         = local.canary_zip
  source_code_hash = filebase64sha256(local.canary_zip)
  memory_size      = 128
  # The probe waits at most timeout_seconds for its heartbeat; a minute more covers the checks.
  timeout = local.canary.timeout_seconds + 60

  environment {
    variables = {
      CANARY_BASE_URL        = local.public_base_url
      TABLE_NAME             = aws_dynamodb_table.this.name
      CANARY_TIMEOUT_SECONDS = tostring(local.canary.timeout_seconds)
    }
  }

  tracing_config {
    mode = "PassThrough"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.canary.name
  }

  depends_on = [aws_iam_role_policy.canary]
}

# A late or failed run is not retried: each run is one sample of the SLI at its own minute.
resource "aws_lambda_function_event_invoke_config" "canary" {
  function_name                = aws_lambda_function.canary.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}

data "aws_iam_policy_document" "canary_scheduler" {
  statement {
    sid       = "InvokeCanary"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.canary.arn]
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

  # Exact times: the burn-rate alarms' 5-minute window expects five samples.
  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.canary.arn
    role_arn = aws_iam_role.canary_scheduler[0].arn
    input    = jsonencode({ source = "schedule" })

    retry_policy {
      maximum_event_age_in_seconds = 60
      maximum_retry_attempts       = 0
    }
  }
}
