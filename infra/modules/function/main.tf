# One Lambda function with what every function of this stack has: its log group (retention, the
# stack's key), its execution role (service path, permissions boundary, one inline policy from the
# caller's policy document) and the function itself (python3.13 on arm64, JSON logs into that
# group). The publisher, the read API and the canary are three instances (infra/publisher.tf,
# read_api.tf, canary.tf); what only one of them has (trigger, function URL, schedule) stays there.

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338:Operational logs: retention is var.log_retention_days (30 by default in the root) to bound cost; the audit trail of writes is CloudTrail's, the SLIs are metrics.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_iam_role" "this" {
  name                 = "${var.name}-role"
  path                 = var.role_path
  permissions_boundary = var.permissions_boundary
  description          = var.role_description
  assume_role_policy   = var.assume_role_policy
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = var.policy_json
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117:These functions talk only to regional AWS APIs and the public CDN; a VPC would add NAT or endpoint cost and cold-start latency for no isolation gain.
  # checkov:skip=CKV_AWS_173:The environment holds only resource names, URLs and limits, no secrets; Lambda encrypts it at rest with its service key.
  # checkov:skip=CKV_AWS_272:Zips are built reproducibly (same sha256 twice) in CI and deployed only through the OIDC deploy role; an AWS Signer profile adds no control here.
  # checkov:skip=CKV_AWS_116:The publisher sets dead_letter_arn (its scheduled rebuilds); the read API is only invoked synchronously through its function URL, and a failed canary run is a missed probe, counted by its not-running alarm.
  # checkov:skip=CKV_AWS_50:The publisher traces Active and the read API per var.read_tracing_mode; the canary is not traced (each run's timings are in its metrics and log line).
  # checkov:skip=CKV_AWS_115:The publisher and the read API reserve concurrency (their variables); the canary runs once a minute with a bounded timeout, and reserving would take from the account's pool for nothing.
  function_name    = var.name
  description      = var.description
  role             = aws_iam_role.this.arn
  runtime          = "python3.13"
  architectures    = ["arm64"]
  handler          = var.handler
  filename         = var.zip_path
  source_code_hash = filebase64sha256(var.zip_path)
  memory_size      = var.memory_mb
  timeout          = var.timeout_seconds
  layers           = var.layers
  publish          = var.publish

  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_arn == null ? [] : [var.dead_letter_arn]
    content {
      target_arn = dead_letter_config.value
    }
  }

  dynamic "snap_start" {
    for_each = var.snap_start ? [1] : []
    content {
      apply_on = "PublishedVersions"
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  depends_on = [aws_iam_role_policy.this]
}
