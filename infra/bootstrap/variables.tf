variable "name" {
  description = "Prefix of the main stack's resources (its var.name); the deploy role is scoped to it."
  type        = string
  default     = "llm-catalogue"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the main stack and of the state bucket."
  type        = string
  default     = "us-east-1"
}

variable "github_repository" {
  description = "GitHub repository allowed to assume the roles, as owner/name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "deploy_environment" {
  description = "GitHub environment whose jobs may assume the deploy (apply) role; protect it with required reviewers or a branch rule for main."
  type        = string
  default     = "production"
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider. false: one already exists (an account can hold only one per URL)."
  type        = bool
  default     = true
}

variable "table_name" {
  description = "Name of the main stack's DynamoDB table (its var.table_name)."
  type        = string
  default     = "llm_scores"
}

variable "state_bucket_name" {
  description = "Bucket for the main stack's Terraform state. Empty: `<name>-tfstate-<account id>`."
  type        = string
  default     = ""
}
