data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  state_bucket = var.state_bucket_name != "" ? var.state_bucket_name : "${var.name}-tfstate-${local.account_id}"
  oidc_url     = "token.actions.githubusercontent.com"
  # The provider's ARN is fixed by its URL, so every policy below is known at plan time.
  oidc_arn = "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.oidc_url}"
  # Same ARN the bucket resource will have; written out so the policies render at plan time.
  state_bucket_arn = "arn:${local.partition}:s3:::${local.state_bucket}"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.oidc_url}"
  client_id_list = ["sts.amazonaws.com"]
  # IAM no longer checks these for GitHub (it trusts the issuer's CA), but the API requires one.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
}

# --- state bucket ------------------------------------------------------------------------------

resource "aws_s3_bucket" "state" {
  # checkov:skip=CKV_AWS_18:Only the two pipeline roles and administrators touch state; CloudTrail records who did, and access logs would need yet another bucket.
  # checkov:skip=CKV_AWS_144:Versioning keeps every state revision and the stack can be re-imported; cross-region replication of a few KB is left to the account's backup policy.
  # checkov:skip=CKV2_AWS_62:Nothing consumes state-object events.
  bucket = local.state_bucket
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    # The AWS-managed aws/s3 key: no key policy to maintain, usable by any role allowed the object.
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-revisions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 90
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

data "aws_iam_policy_document" "state_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

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
}
