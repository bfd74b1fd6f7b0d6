output "plan_role_arn" {
  description = "Set as the repository variable AWS_PLAN_ROLE_ARN (pull-request plans)."
  value       = aws_iam_role.plan.arn
}

output "deploy_role_arn" {
  description = "Set as the variable AWS_DEPLOY_ROLE_ARN of the deploy environment (applies on main)."
  value       = aws_iam_role.deploy.arn
}

output "state_bucket" {
  description = "Bucket for infra/backend.hcl (bucket = ...)."
  value       = aws_s3_bucket.state.bucket
}

output "service_boundary_arn" {
  description = "Permissions boundary every role of the main stack carries (its var.permissions_boundary_arn defaults to this ARN)."
  value       = aws_iam_policy.service_boundary.arn
}

output "oidc_subject_customisation" {
  description = "The one-time repository setting the trust policies expect (see infra/README.md)."
  value       = { use_default = false, include_claim_keys = local.github_sub_keys }
}
