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
