# One customer managed key encrypts the service's data at rest: table (and its stream), site
# bucket, DLQ, alarm topic, log groups and the reconcile schedule. One key keeps the key policy
# reviewable in one place and costs $1/month; the bucket key keeps S3's KMS calls (and cost) low.
resource "aws_kms_key" "this" {
  description             = "${var.name}: table, site bucket, DLQ, alarm topic, logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

# CloudFront-scoped pieces (WAF logs, the edge alarm topic) live in us-east-1. When the stack runs
# there, the service key covers them; elsewhere they get a sibling key in us-east-1 under the same
# policy ($1/month more), since a KMS key serves only its own region.
resource "aws_kms_key" "edge" {
  count    = local.edge_in_home_region ? 0 : 1
  provider = aws.us_east_1

  description             = "${var.name}: WAF logs and edge alarm topic (us-east-1)"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "edge" {
  count    = local.edge_in_home_region ? 0 : 1
  provider = aws.us_east_1

  name          = "alias/${var.name}-edge"
  target_key_id = aws_kms_key.edge[0].key_id
}

locals {
  edge_key_arn = local.edge_in_home_region ? aws_kms_key.this.arn : aws_kms_key.edge[0].arn
  log_regions  = distinct([local.region, "us-east-1"])
  # The log groups the key encrypts, by name (written out: the groups themselves need the key).
  encrypted_log_groups = concat(
    [for f in [local.publisher_name, local.read_name, local.canary_name] : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${f}"],
    ["arn:${local.partition}:logs:us-east-1:${local.account_id}:log-group:aws-waf-logs-${var.name}"],
  )
}

data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109:In a key policy, Resource "*" means this key only; the account statement is the standard one that delegates to IAM policies.
  # checkov:skip=CKV_AWS_111:In a key policy, Resource "*" means this key only; write use is granted to services with SourceArn/SourceAccount conditions.
  # checkov:skip=CKV_AWS_356:In a key policy, Resource "*" means this key only (a key policy cannot name other resources).
  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # The pipeline manages this key through this policy, not through tags: its identity policy has
  # no kms grant by tag (infra/bootstrap/roles.tf), so no other key can be tagged into its reach.
  statement {
    sid       = "DeployRoleAdministersThisKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.deploy_role_arn]
    }
  }

  statement {
    sid       = "PlanRoleReadsThisKey"
    actions   = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.plan_role_arn]
    }
  }

  statement {
    sid = "CloudWatchLogsEncryptsThisStacksLogGroups"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = [for r in local.log_regions : "logs.${r}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = local.encrypted_log_groups
    }
  }

  # CloudWatch alarms publish to the encrypted alarm topic.
  statement {
    sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:*:${local.account_id}:alarm:${var.name}-*"]
    }
  }

  # CloudFront (OAC) reads SSE-KMS objects: only this stack's bucket's (the encryption context S3
  # sets is the bucket's ARN with the bucket key, the object's without). The distribution is this
  # account's rather than the exact ARN: the exact ARN would make a cycle (distribution -> function
  # URL -> read Lambda -> its encrypted log group -> this key). The bucket policy names the exact ARN.
  statement {
    sid       = "CloudFrontOacDecryptsSiteObjects"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudfront::${local.account_id}:distribution/*"]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]
    }
  }
}
