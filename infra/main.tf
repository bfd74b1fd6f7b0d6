data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  tags = merge(var.tags, {
    service    = var.name
    managed_by = "terraform"
  })

  # The pipeline (infra/bootstrap) creates service roles only on this path and only with this
  # boundary; its own roles live on a path no deploy statement names.
  service_role_path    = "/${var.name}/"
  pipeline_path        = "/${var.name}-pipeline/"
  permissions_boundary = var.permissions_boundary_arn != "" ? var.permissions_boundary_arn : "arn:${local.partition}:iam::${local.account_id}:policy${local.pipeline_path}${var.name}-service-boundary"
  deploy_role_arn      = "arn:${local.partition}:iam::${local.account_id}:role${local.pipeline_path}${var.name}-github-deploy"
  plan_role_arn        = "arn:${local.partition}:iam::${local.account_id}:role${local.pipeline_path}${var.name}-github-plan"

  publisher_name = "${var.name}-publisher"
  read_name      = "${var.name}-read-api"

  # CORS, CSP and security headers: one file, also read by the local edge, the read API and the
  # page renderer (publisher/core/edge_contract.py).
  edge_contract = jsondecode(file(var.edge_contract_path != "" ? var.edge_contract_path : "${path.module}/../publisher/core/edge_contract.json"))

  # The publisher's links and feeds need the public origin. It cannot come from the distribution
  # for the read function (CloudFront -> function URL -> read Lambda would be a cycle), so the
  # read function only gets the configured value.
  public_base_url = var.public_base_url != "" ? var.public_base_url : "https://${aws_cloudfront_distribution.this.domain_name}"
}
