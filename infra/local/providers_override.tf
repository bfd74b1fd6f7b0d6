# Emulator-only configuration, merged over the production files by Terraform's override rules
# (https://developer.hashicorp.com/terraform/language/files/override). scripts/infra_local.py
# copies infra/*.tf and this directory into a scratch working directory; nothing here is ever
# part of a real plan, and the production files never name the emulator.

terraform {
  backend "local" {}
}

provider "aws" {
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    cloudfront = var.local_endpoint_url
    cloudwatch = var.local_endpoint_url
    dynamodb   = var.local_endpoint_url
    iam        = var.local_endpoint_url
    kms        = var.local_endpoint_url
    lambda     = var.local_endpoint_url
    logs       = var.local_endpoint_url
    s3         = var.local_endpoint_url
    scheduler  = var.local_endpoint_url
    sns        = var.local_endpoint_url
    sqs        = var.local_endpoint_url
    sts        = var.local_endpoint_url
    wafv2      = var.local_endpoint_url
  }
}

provider "aws" {
  alias                       = "us_east_1"
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    cloudfront = var.local_endpoint_url
    cloudwatch = var.local_endpoint_url
    dynamodb   = var.local_endpoint_url
    iam        = var.local_endpoint_url
    kms        = var.local_endpoint_url
    lambda     = var.local_endpoint_url
    logs       = var.local_endpoint_url
    s3         = var.local_endpoint_url
    scheduler  = var.local_endpoint_url
    sns        = var.local_endpoint_url
    sqs        = var.local_endpoint_url
    sts        = var.local_endpoint_url
    wafv2      = var.local_endpoint_url
  }
}
