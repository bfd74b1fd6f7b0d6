# One role per function (created by modules/function), each with one inline policy from the
# policy document here: named actions on named resources. Every role sits on the service path and
# carries the pipeline's service boundary (infra/bootstrap), without which the deploy role may not
# create it. Only X-Ray's actions are on "*" (they have no resource type). The actions each
# handler's code calls are proven against these documents by tests/infra/test_least_privilege.py.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- publisher ---------------------------------------------------------------------------------

data "aws_iam_policy_document" "publisher" {
  # checkov:skip=CKV_AWS_356:Only the X-Ray statement uses "*": PutTraceSegments and PutTelemetryRecords have no resource type.
  # checkov:skip=CKV_AWS_111:Only the X-Ray statement uses "*": PutTraceSegments and PutTelemetryRecords have no resource type.
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${module.publisher.log_group_arn}:*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # s3:GetObject also authorises HeadObject; PutObject carries If-Match / If-None-Match.
  statement {
    sid       = "ReadAndWriteSnapshotObjects"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.site.arn}/*"]
  }

  # A provider that no longer has models loses its page, and a history object of the layouts
  # before shards is removed once its events moved into its model's shard (publisher/publish/migrate.py).
  # Versioning keeps the old object as a noncurrent version (a delete marker), so this cannot
  # destroy data.
  statement {
    sid       = "RemoveEmptyProviderPagesAndMovedHistories"
    actions   = ["s3:DeleteObject"]
    resources = ["${aws_s3_bucket.site.arn}/providers/*", "${aws_s3_bucket.site.arn}/history/*"]
  }

  # Without ListBucket a missing key answers 403 AccessDenied, not 404 NoSuchKey, and the
  # publisher could not tell "first publish" from "misconfigured". The one-off history
  # migration lists history/ with it.
  statement {
    sid       = "MissingKeysAre404"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.site.arn]
  }

  statement {
    sid       = "RebuildScansTable"
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.this.arn]
  }

  # Used by the Lambda service's stream poller (event source mapping) on the function's behalf.
  statement {
    sid = "StreamTriggerReadsStream"
    actions = [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]
    resources = ["${aws_dynamodb_table.this.arn}/stream/*"]
  }

  # Used by the Lambda service: the trigger's on-failure destination and the async DLQ.
  statement {
    sid       = "FailedBatchesToDlq"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.publisher_dlq.arn]
  }

  # SSE-KMS objects, the encrypted table/stream and the encrypted DLQ.
  statement {
    sid       = "UseServiceKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

# --- read API ----------------------------------------------------------------------------------

data "aws_iam_policy_document" "read" {
  # checkov:skip=CKV_AWS_356:Only the X-Ray statement uses "*": PutTraceSegments and PutTelemetryRecords have no resource type.
  # checkov:skip=CKV_AWS_111:Only the X-Ray statement uses "*": PutTraceSegments and PutTelemetryRecords have no resource type.
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${module.read.log_group_arn}:*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # The snapshot, the list object's version metadata and content hash, the history shards it
  # serves per-model histories from, and the log of versions as-of reads and /api/changes replay
  # with its checkpoints and their index; nothing else (in particular not the state).
  statement {
    sid       = "ReadSnapshot"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.site.arn}/llms.json", "${aws_s3_bucket.site.arn}/llms", "${aws_s3_bucket.site.arn}/internal/history/*", "${aws_s3_bucket.site.arn}/internal/log/*", "${aws_s3_bucket.site.arn}/internal/checkpoint/*", "${aws_s3_bucket.site.arn}/internal/checkpoint-index.json"]
  }

  # A cold instance that finds llms.json deleted labels its DynamoDB fallback with the newest
  # published version, read from the deleted object's surviving versions: never version 0.
  statement {
    sid       = "NewestPublishedVersion"
    actions   = ["s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.site.arn}/llms.json"]
  }

  statement {
    sid       = "ListSnapshotVersions"
    actions   = ["s3:ListBucketVersions"]
    resources = [aws_s3_bucket.site.arn]
  }

  statement {
    sid       = "MissingKeysAre404"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.site.arn]
  }

  # Fallback when the snapshot cannot be read.
  statement {
    sid       = "FallbackScan"
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.this.arn]
  }

  statement {
    sid       = "UseServiceKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

# --- scheduler ---------------------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = var.enable_reconcile_schedule ? 1 : 0

  name               = "${var.name}-reconcile-scheduler-role"
  description        = "EventBridge Scheduler invokes the publisher's rebuild."
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json

  path                 = local.service_role_path
  permissions_boundary = local.permissions_boundary
}

resource "aws_iam_role_policy" "scheduler" {
  count = var.enable_reconcile_schedule ? 1 : 0

  name   = "invoke-publisher"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokePublisher"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.publisher.arn]
  }

  # The schedule's input is encrypted with the service key.
  statement {
    sid       = "DecryptScheduleInput"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}
