locals {
  # AWS-managed policies, referenced by ID (they exist in every account; creating our own would
  # duplicate them, and the emulator has no cache-policy API):
  # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
  # CachingOptimized honours the origin's Cache-Control (the publisher's s-maxage bounds edge
  # staleness) within min 1 s / max 1 year; it keeps query strings and cookies out of the key.
  cache_policy_caching_optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  # CORS-S3Origin: passes Origin and Access-Control-Request-* to S3, which needs them to answer
  # a preflight (its CORS rule, data.tf); they stay out of the cache key. On the origin-group
  # behaviours the read function receives them too when S3 fails over; it ignores them.
  origin_request_policy_cors_s3 = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
  # CORS-with-preflight-and-SecurityHeadersPolicy: only for the emulator, which cannot create the
  # policy below; it has CORS and the security headers but no CSP.
  response_headers_policy_managed_cors_security = "eaab4381-ed33-4a86-88ca-d9558dc6cd63"
  # Two custom policies, alike but for one header: the behaviours whose first origin is S3 ("site")
  # also say which origin answered, `X-Snapshot-Source: s3`, as the local edge does
  # (publisher/local/edge.py), without overriding the value the read function sends when
  # CloudFront fails over to it (`memory` for its copy, `dynamodb` for its table scan); the read
  # API's behaviours ("api") leave the header to the function.
  response_headers_policies = var.custom_response_headers_policy ? {
    site = { snapshot_source = "s3", name = "${var.name}-edge" }
    api  = { snapshot_source = null, name = "${var.name}-edge-api" }
  } : {}
  site_response_headers_policy_id = var.custom_response_headers_policy ? aws_cloudfront_response_headers_policy.edge["site"].id : local.response_headers_policy_managed_cors_security
  api_response_headers_policy_id  = var.custom_response_headers_policy ? aws_cloudfront_response_headers_policy.edge["api"].id : local.response_headers_policy_managed_cors_security
  # Every behaviour answers the methods of the edge contract (GET, HEAD, OPTIONS) but caches only
  # GET and HEAD. The cache key carries no Origin or Access-Control-Request-* header, so a cached
  # preflight answer would be served to every preflight of that URL: one malformed OPTIONS (S3
  # answers it 403, cached for the error TTL) would break every browser's conditional fetch.
  # Uncached preflights cost one origin request each; browsers keep a preflight up to its max-age.
  edge_methods        = local.edge_contract.methods
  edge_cached_methods = [for method in local.edge_methods : method if method != "OPTIONS"]

  # /api/*: our own policy (below) unless the emulator run names a managed one instead.
  api_cache_policy_id = var.api_cache_policy_id != "" ? var.api_cache_policy_id : aws_cloudfront_cache_policy.api[0].id

  # The CDN's behaviours from the edge contract's routes (publisher/core/edge_contract.json), by
  # origin: a route below a first segment is covered by "/<segment>/*", a top-level one by its own
  # path (publisher/core/edge_contract.py derives the same for the local edge).
  route_patterns = {
    for origin in ["function", "failover"] : origin => distinct([
      for route in local.edge_contract.routes :
      length(split("/", route.path)) > 2 ? "/${split("/", route.path)[1]}/*" : route.path if route.origin == origin
    ])
  }

  site_origin_id     = "site-bucket"
  api_origin_id      = "read-api"
  snapshot_origin_id = "snapshot-with-api-failover"
}

# CORS for any origin (preflight included), the page's Content-Security-Policy and the security
# headers, from publisher/core/edge_contract.json, on every answer of every behaviour; they override an
# origin's own. A custom policy, because no managed one carries a CSP. Response headers policies
# are free. The emulator cannot create one (no API): tests/infra/test_edge_policy.py proves this
# resource with `terraform test` and a mocked provider instead.
resource "aws_cloudfront_response_headers_policy" "edge" {
  # checkov:skip=CKV_AWS_259:HSTS max-age (1 year), includeSubDomains and override come from the edge contract through jsondecode, which checkov cannot evaluate (infra/tests/edge_contract.tftest.hcl asserts them); preload is a request to browsers' built-in lists that only a custom domain's owner can make (hstspreload.org), meaningless for *.cloudfront.net.
  for_each = local.response_headers_policies

  name    = each.value.name
  comment = "CORS (any origin, preflight), CSP and security headers from the edge contract${each.value.snapshot_source == null ? "" : "; X-Snapshot-Source unless the origin sent one"}."

  dynamic "custom_headers_config" {
    for_each = each.value.snapshot_source == null ? [] : [each.value.snapshot_source]
    content {
      items {
        header   = "X-Snapshot-Source"
        value    = custom_headers_config.value
        override = false
      }
    }
  }

  cors_config {
    access_control_allow_credentials = local.edge_contract.cors.allow_credentials
    access_control_max_age_sec       = local.edge_contract.cors.max_age_seconds
    origin_override                  = true

    access_control_allow_headers {
      items = local.edge_contract.cors.allow_headers
    }
    access_control_allow_methods {
      items = local.edge_contract.cors.allow_methods
    }
    access_control_allow_origins {
      items = local.edge_contract.cors.allow_origins
    }
    access_control_expose_headers {
      items = local.edge_contract.cors.expose_headers
    }
  }

  security_headers_config {
    content_security_policy {
      content_security_policy = join("; ", local.edge_contract.security.content_security_policy)
      override                = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = local.edge_contract.security.frame_options
      override     = true
    }
    referrer_policy {
      referrer_policy = local.edge_contract.security.referrer_policy
      override        = true
    }
    strict_transport_security {
      access_control_max_age_sec = local.edge_contract.security.strict_transport_security.max_age_seconds
      include_subdomains         = local.edge_contract.security.strict_transport_security.include_subdomains
      preload                    = local.edge_contract.security.strict_transport_security.preload
      override                   = true
    }
    # "0": with a CSP, the legacy XSS auditor adds nothing and has been a vector itself.
    xss_protection {
      protection = local.edge_contract.security.xss_protection != "0"
      mode_block = false
      override   = true
    }
  }
}

# The one policy became the "site" one of two (the API's behaviours got their own, without
# X-Snapshot-Source): the deployed policy keeps its identity (and its name, which is unique).
moved {
  from = aws_cloudfront_response_headers_policy.edge[0]
  to   = aws_cloudfront_response_headers_policy.edge["site"]
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
    allowed_methods            = local.edge_methods
    cached_methods             = local.edge_cached_methods
    compress                   = true
    cache_policy_id            = local.cache_policy_caching_optimized
    origin_request_policy_id   = local.origin_request_policy_cors_s3
    response_headers_policy_id = local.site_response_headers_policy_id
  }

  # The read API, and the per-model histories it serves from their private shards
  # (publisher/core/history_shards.py): no S3 object holds them, so S3 is not asked first.
  dynamic "ordered_cache_behavior" {
    for_each = local.route_patterns["function"]

    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.api_origin_id
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = local.edge_methods
      cached_methods             = local.edge_cached_methods
      compress                   = true
      cache_policy_id            = local.api_cache_policy_id
      response_headers_policy_id = local.api_response_headers_policy_id
    }
  }

  # The snapshot's lists, and per-provider URLs S3 does not hold (an older slug URL or a loose
  # name): the read API answers them when exactly one provider is meant.
  dynamic "ordered_cache_behavior" {
    for_each = local.route_patterns["failover"]

    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.snapshot_origin_id
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = local.edge_methods
      cached_methods             = local.edge_cached_methods
      compress                   = true
      cache_policy_id            = local.cache_policy_caching_optimized
      origin_request_policy_id   = local.origin_request_policy_cors_s3
      response_headers_policy_id = local.site_response_headers_policy_id
    }
  }

  # A 404 for a name (the read API sends it with no-store) must not outlive the model's
  # publication; CloudFront would otherwise keep any 404 for 10 s.
  custom_error_response {
    error_code            = 404
    error_caching_min_ttl = 0
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
