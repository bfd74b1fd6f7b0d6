provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# CloudFront-scoped resources (the WAF web ACL, the CloudFront metrics and their alarm) only
# exist in us-east-1, whatever region the rest of the stack runs in.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}
