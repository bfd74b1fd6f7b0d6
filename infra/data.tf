# The catalogue table. Its name, key and attribute types are the PoC's, so `terraform import`
# adopts the existing table; enabling the stream, PITR and SSE are in-place updates.
resource "aws_dynamodb_table" "this" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "model_name"
  deletion_protection_enabled = var.table_deletion_protection

  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "model_name"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }
}

resource "aws_s3_bucket" "site" {
  # checkov:skip=CKV_AWS_18:Readers only reach the bucket through CloudFront (metrics, WAF) and the only writer is the publisher (CloudTrail, its logs); server access logs would need a second bucket and add no signal.
  # checkov:skip=CKV_AWS_144:The content is derived data: the reconcile rebuilds it from the table (PITR-protected) in one run, so a replica would double storage for no recovery gain.
  # checkov:skip=CKV2_AWS_62:Nothing consumes object events; the DynamoDB stream is the change feed.
  bucket        = var.site_bucket_name != "" ? var.site_bucket_name : "${var.name}-site-${local.account_id}"
  force_destroy = false
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "site" {
  bucket = aws_s3_bucket.site.id

  versioning_configuration {
    status = "Enabled"
  }
}

# CloudFront passes a CORS preflight (OPTIONS) on to its origin and only adds headers to the answer,
# so S3 itself must answer it 2xx: without a CORS rule it answers 403. The response headers
# policy (cdn.tf) then sets the same headers from the same contract on every answer.
# https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
resource "aws_s3_bucket_cors_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  cors_rule {
    # S3 takes GET, PUT, HEAD, POST and DELETE here; OPTIONS is the preflight itself.
    allowed_methods = [for method in local.edge_contract.cors.allow_methods : method if method != "OPTIONS"]
    allowed_origins = local.edge_contract.cors.allow_origins
    allowed_headers = local.edge_contract.cors.allow_headers
    expose_headers  = local.edge_contract.cors.expose_headers
    max_age_seconds = local.edge_contract.cors.max_age_seconds
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    id     = "expire-replaced-snapshots"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  # Dated snapshots (publisher/publish/dated_snapshots.py) are written once and read rarely after their
  # first month: a cheaper storage class then. S3 does not transition objects under 128 KB (a
  # small catalogue's copies stay STANDARD, where they cost less than IA's 128 KB minimum).
  # The index, rewritten each day, never gets that old.
  rule {
    id     = "dated-snapshots-to-infrequent-access"
    status = "Enabled"

    filter {
      prefix = "snapshots/"
    }

    transition {
      days          = var.snapshot_transition_days
      storage_class = "STANDARD_IA"
    }
  }

  # The log of versions and its checkpoints (publisher/core/replay.py) are kept history_retention_days
  # and then expire; the read API, told the same number, answers only inside it (an object whose
  # version committed less than that long ago is certainly still there). The checkpoint index
  # (internal/checkpoint-index.json) is outside both prefixes: rewritten, never expired.
  dynamic "rule" {
    for_each = { "expire-version-log" = "internal/log/", "expire-version-checkpoints" = "internal/checkpoint/" }

    content {
      id     = rule.key
      status = "Enabled"

      filter {
        prefix = rule.value
      }

      expiration {
        days = var.history_retention_days
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.site]
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = data.aws_iam_policy_document.site_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.site]
}

data "aws_iam_policy_document" "site_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # No s3:ListBucket for CloudFront: a missing object is a 403, which the origin group fails over
  # on like a 404, and the edge can never list the bucket's keys.
  statement {
    sid       = "CloudFrontReadsPublishedObjects"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  # internal/ holds the publisher's state (change log, version counters): never served.
  statement {
    sid       = "CloudFrontNeverReadsInternalState"
    effect    = "Deny"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.site.arn}/internal/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
  }
}
