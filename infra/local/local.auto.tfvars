# Emulator settings: a throwaway stack that `terraform destroy` can remove.
table_deletion_protection = false
kms_deletion_window_days  = 7
cdn_wait_for_deployment   = false
# moto has no CloudFront response headers policy API: the distribution references the managed
# CORS-with-preflight-and-SecurityHeadersPolicy here; tests/infra/test_edge_policy.py proves the
# custom policy with `terraform test` and a mocked provider.
custom_response_headers_policy = false
