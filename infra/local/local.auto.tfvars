# Emulator settings: a throwaway stack that `terraform destroy` can remove.
table_deletion_protection = false
kms_deletion_window_days  = 7
cdn_wait_for_deployment   = false
# moto has no CloudFront response headers policy API: the distribution references the managed
# CORS-with-preflight-and-SecurityHeadersPolicy here; tests/infra/test_edge_policy.py proves the
# custom policy with `terraform test` and a mocked provider.
custom_response_headers_policy = false
# moto has no CloudFront cache-policy API: point /api/* at the managed CachingDisabled policy so the
# distribution can be created. The real policy (cdn.tf, aws_cloudfront_cache_policy.api) is checked
# by terraform validate, checkov and tests/infra/test_function_url.py instead.
api_cache_policy_id = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
