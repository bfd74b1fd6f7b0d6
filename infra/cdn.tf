locals {
  # AWS-managed policies, referenced by ID (they exist in every account; creating our own would
  # duplicate them, and the emulator has no cache-policy API):
  # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
  # CachingOptimized honours the origin's Cache-Control (the publisher's s-maxage bounds edge
  # staleness) within min 1 s / max 1 year; it keeps query strings and cookies out of the key.
  cache_policy_caching_optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  # SecurityHeadersPolicy: HSTS, X-Content-Type-Options, X-Frame-Options, Referrer-Policy, XSS.
  response_headers_policy_security_headers = "67f7725c-6f97-4210-82d7-5512b31e9d03"

  # /api/*: our own policy (below) unless the emulator run names a managed one instead.
  api_cache_policy_id = var.api_cache_policy_id != "" ? var.api_cache_policy_id : aws_cloudfront_cache_policy.api[0].id

  site_origin_id     = "site-bucket"
  api_origin_id      = "read-api"
  snapshot_origin_id = "snapshot-with-api-failover"
}

# The read API reads its path and query string, nothing else: the query string is the cache key
# and all CloudFront forwards. No viewer header or cookie reaches the function (there is no origin
# request policy), and the Host stays the function URL's own, which its routing and the OAC's
# SigV4 signature need. The managed UseOriginCacheControlHeaders-QueryStrings policy would put the
# viewer's Host and Origin into the key and forward them, which a function URL origin rejects.
# Conditional requests (If-None-Match) are answered by CloudFront from its copy and the ETag.
resource "aws_cloudfront_cache_policy" "api" {
  count = var.api_cache_policy_id == "" ? 1 : 0

  name        = "${var.name}-api-query-strings"
  comment     = "Read API: query strings in the key and forwarded; the origin's Cache-Control decides the TTL."
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = 31536000

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "all"
    }
  }
}

resource "aws_cloudfront_origin_access_control" "site" {
  name                              = "${var.name}-site"
  description                       = "CloudFront reads the private site bucket (SigV4)."
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# CloudFront signs every request to the read function's URL (SigV4, service lambda); the URL's
# AWS_IAM auth and the function's resource policy (read_api.tf) accept only this distribution.
resource "aws_cloudfront_origin_access_control" "read_api" {
  name                              = "${var.name}-read-api"
  description                       = "CloudFront invokes the read API's function URL (SigV4)."
  origin_access_control_origin_type = "lambda"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_distribution" "this" {
  # checkov:skip=CKV_AWS_86:Standard access logs need an ACL-enabled bucket (this stack enforces owner-only objects); CloudFront metrics, the 5xx alarm and WAF sampled requests cover operations.
  # checkov:skip=CKV_AWS_174:With the default *.cloudfront.net certificate CloudFront fixes the TLS policy itself; setting var.acm_certificate_arn switches to TLSv1.2_2021.
  # checkov:skip=CKV2_AWS_42:A custom certificate needs a domain the operator owns; supported through var.aliases and var.acm_certificate_arn.
  # checkov:skip=CKV_AWS_374:A public catalogue for readers anywhere; there is no jurisdiction to exclude.
  # checkov:skip=CKV2_AWS_32:Every behaviour attaches the AWS-managed SecurityHeadersPolicy by ID (local.response_headers_policy_security_headers); the check only recognises a policy resource declared in this module.
  # checkov:skip=CKV2_AWS_47:The ACL (waf.tf) runs AWSManagedRulesKnownBadInputsRuleSet, which holds the Log4j rules; this check also demands AWSManagedRulesAnonymousIpList, which would block VPN and cloud-hosted readers (API clients) of a public catalogue.
  enabled             = true
  comment             = "${var.name}: snapshot site + read API"
  default_root_object = "index.html"
  price_class         = var.price_class
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  aliases             = var.aliases
  web_acl_id          = var.enable_waf ? aws_wafv2_web_acl.this[0].arn : null
  wait_for_deployment = var.cdn_wait_for_deployment

  origin {
    origin_id                = local.site_origin_id
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }

  origin {
    origin_id                = local.api_origin_id
    domain_name              = local.read_url_host
    origin_access_control_id = aws_cloudfront_origin_access_control.read_api.id

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  # The snapshot's list objects fall back to the read API when S3 cannot serve them: 403 is how
  # S3 answers a missing key without s3:ListBucket, 404 in case that is granted later, 5xx for
  # an S3 outage. Origin groups only allow GET/HEAD/OPTIONS behaviours, which is all these need.
  origin_group {
    origin_id = local.snapshot_origin_id

    failover_criteria {
      status_codes = [403, 404, 500, 502, 503, 504]
    }

    member {
      origin_id = local.site_origin_id
    }

    member {
      origin_id = local.api_origin_id
    }
  }

  default_cache_behavior {
    target_origin_id           = local.site_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.cache_policy_caching_optimized
    response_headers_policy_id = local.response_headers_policy_security_headers
  }

  ordered_cache_behavior {
    path_pattern               = "/api/*"
    target_origin_id           = local.api_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.api_cache_policy_id
    response_headers_policy_id = local.response_headers_policy_security_headers
  }

  dynamic "ordered_cache_behavior" {
    for_each = ["/llms.json", "/llms"]

    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.snapshot_origin_id
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = local.cache_policy_caching_optimized
      response_headers_policy_id = local.response_headers_policy_security_headers
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.acm_certificate_arn == ""
    acm_certificate_arn            = var.acm_certificate_arn != "" ? var.acm_certificate_arn : null
    ssl_support_method             = var.acm_certificate_arn != "" ? "sni-only" : null
    minimum_protocol_version       = var.acm_certificate_arn != "" ? "TLSv1.2_2021" : "TLSv1"
  }
}
