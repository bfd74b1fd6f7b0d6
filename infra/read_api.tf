locals {
  read_zip = var.read_zip_path != "" ? var.read_zip_path : "${path.module}/../dist/read_api.zip"

  # SnapStart and provisioned concurrency both apply to published versions only, so either one
  # puts the function URL on the `live` alias instead of $LATEST.
  read_uses_alias = var.read_snapstart || var.read_provisioned_concurrency > 0
  read_qualifier  = local.read_uses_alias ? aws_lambda_alias.read_live[0].name : null

  # https://<url-id>.lambda-url.<region>.on.aws/ -> the bare host CloudFront connects to.
  read_url_host = trimsuffix(trimprefix(aws_lambda_function_url.read.function_url, "https://"), "/")
}

module "read" {
  source = "./modules/function"

  name                 = local.read_name
  description          = "Read API behind /api/* and CloudFront's failover origin for /llms.json and /llms."
  role_description     = "Execution role of the read API."
  role_path            = local.service_role_path
  permissions_boundary = local.permissions_boundary
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  policy_name          = "read-api"
  policy_json          = data.aws_iam_policy_document.read.json
  log_retention_days   = var.log_retention_days
  kms_key_arn          = aws_kms_key.this.arn

  handler              = "publisher.read.handler.handler"
  zip_path             = local.read_zip
  memory_mb            = var.read_memory_mb
  timeout_seconds      = var.read_timeout_seconds
  layers               = local.layers
  reserved_concurrency = var.read_reserved_concurrency
  tracing_mode         = var.read_tracing_mode
  publish              = local.read_uses_alias
  snap_start           = var.read_snapstart

  environment = merge(local.common_environment, {
    PUBLIC_BASE_URL             = var.public_base_url
    SNAPSHOT_REVALIDATE_SECONDS = tostring(var.snapshot_revalidate_seconds)
    HISTORY_RETENTION_DAYS      = tostring(var.history_retention_days)
    POWERTOOLS_SERVICE_NAME     = "read-api"
  })
}

resource "aws_lambda_alias" "read_live" {
  count = local.read_uses_alias ? 1 : 0

  name             = "live"
  description      = "Version the function URL invokes (SnapStart / provisioned concurrency)."
  function_name    = module.read.function_name
  function_version = module.read.version
}

resource "aws_lambda_provisioned_concurrency_config" "read_live" {
  count = var.read_provisioned_concurrency > 0 ? 1 : 0

  function_name                     = module.read.function_name
  qualifier                         = aws_lambda_alias.read_live[0].name
  provisioned_concurrent_executions = var.read_provisioned_concurrency
}

# The read API's only way in: a function URL that takes nothing but SigV4-signed requests (AWS_IAM),
# and a resource policy that lets only this stack's distribution (its OAC) sign them. There is no
# API Gateway and no public endpoint around the CDN, its WAF and its cache.
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html
resource "aws_lambda_function_url" "read" {
  function_name      = module.read.function_name
  qualifier          = local.read_qualifier
  authorization_type = "AWS_IAM"
  invoke_mode        = "BUFFERED"
}

resource "aws_lambda_permission" "cloudfront_invoke_url" {
  statement_id           = "AllowCloudFrontOacInvokeFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = module.read.function_name
  qualifier              = local.read_qualifier
  principal              = "cloudfront.amazonaws.com"
  source_arn             = aws_cloudfront_distribution.this.arn
  function_url_auth_type = "AWS_IAM"
}

# Function URLs created since October 2025 also need lambda:InvokeFunction for the same principal
# (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). AWS provider 6.x can add the
# lambda:InvokedViaFunctionUrl condition (invoked_via_function_url); 5.x cannot, so this grant is
# bounded by principal and SourceArn: only this distribution, which reaches the function through
# its OAC-signed URL and has no other way to call Invoke.
resource "aws_lambda_permission" "cloudfront_invoke" {
  statement_id  = "AllowCloudFrontOacInvokeFunction"
  action        = "lambda:InvokeFunction"
  function_name = module.read.function_name
  qualifier     = local.read_qualifier
  principal     = "cloudfront.amazonaws.com"
  source_arn    = aws_cloudfront_distribution.this.arn
}
