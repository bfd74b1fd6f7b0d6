terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100.0 is the version in the offline mirror used by CI and `make infra-local`.
      version = ">= 5.80, < 6.0"
    }
  }

  # Partial configuration: `make plan` / `make deploy` pass -backend-config=backend.hcl
  # (see backend.hcl.example). `make infra-local` replaces it with a local backend through
  # infra/local/providers_override.tf, so production files never name the emulator.
  backend "s3" {}
}
