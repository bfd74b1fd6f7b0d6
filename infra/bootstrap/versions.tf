# One-time stack, applied by an administrator with their own credentials: the GitHub OIDC
# provider, the two roles the delivery pipeline assumes, and the bucket holding the main stack's
# state. Its own state is local (keep terraform.tfstate somewhere safe, or migrate it into the
# bucket it creates: see README "Deploying").
terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      service    = var.name
      managed_by = "terraform"
      stack      = "bootstrap"
    }
  }
}
