locals {
  # Only the routes the read function serves (publisher/read/api.py ROUTES), each with every
  # method of the edge contract (GET, HEAD, OPTIONS); anything else is API Gateway's own 404 and
  # never reaches (or bills) the function. The last four are CloudFront's failover origin paths.
  api_paths = [
    "/api/llms",
    "/api/llms/{model_name}",
    "/api/llms/{model_name}/history",
    "/api/providers",
    "/api/health",
    "/api/openapi.json",
    "/llms.json",
    "/llms",
    "/history/{file}",
    "/providers/{file}",
  ]
  api_routes = [for route in setproduct(local.edge_contract.methods, local.api_paths) : "${route[0]} ${route[1]}"]
}

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name}-api"
  description   = "Read API of the LLM catalogue (behind CloudFront)."
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "read" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = local.read_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = (var.read_timeout_seconds + 1) * 1000
}

resource "aws_apigatewayv2_route" "read" {
  # checkov:skip=CKV_AWS_309:Public, read-only catalogue (the same data CloudFront serves to anyone); abuse is bounded by WAF, stage throttling and reserved concurrency.
  for_each = toset(local.api_routes)

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.read.id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  # checkov:skip=CKV_AWS_338:Operational logs: retention is var.log_retention_days (30 by default) to bound cost; the audit trail of writes is CloudTrail's.
  name              = "/aws/apigateway/${var.name}-api"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      path               = "$context.path"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      sourceIp           = "$context.identity.sourceIp"
      userAgent          = "$context.identity.userAgent"
    })
  }
}

resource "aws_lambda_permission" "api_invoke_read" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.read.function_name
  qualifier     = local.read_uses_alias ? aws_lambda_alias.read_live[0].name : null
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*/*"
}
