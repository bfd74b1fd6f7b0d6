variable "name" {
  description = "Prefix of the main stack's resources (its var.name); the deploy role is scoped to it."
  type        = string
  default     = "llm-catalogue"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name)) && !endswith(var.name, "-pipeline")
    error_message = "name must be 3-31 characters of lower-case letters, digits and hyphens, starting with a letter, and must not end in -pipeline (the pipeline roles of a stack <x> live on the path /<x>-pipeline/, which would be the service-role path of a stack named <x>-pipeline)."
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
  description = "GitHub environment whose jobs may assume the deploy (apply) role. The trust policy also requires var.deploy_ref and var.workflow_path; keep required reviewers on the environment as a second gate."
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

variable "state_key" {
  description = "Key of the main stack's state object in the state bucket (the CI workflow's backend key); the pipeline roles may touch only it and its lock."
  type        = string
  default     = "llm-catalogue/terraform.tfstate"
}

variable "workflow_path" {
  description = "Workflow file whose jobs may assume the roles (its path in the repository)."
  type        = string
  default     = ".github/workflows/ci.yml"
}

variable "deploy_ref" {
  description = "The only git ref whose runs may assume the deploy role."
  type        = string
  default     = "refs/heads/main"
}

variable "site_bucket_name" {
  description = "The main stack's site bucket (its var.site_bucket_name). Empty: `<name>-site-<account id>`."
  type        = string
  default     = ""
}

variable "extra_tag_keys" {
  description = "Keys of the main stack's var.tags: with service and managed_by, the only tag keys the deploy role may set on a key or a distribution."
  type        = list(string)
  default     = []
}

variable "edge_policy_ids" {
  description = "IDs of the main stack's CloudFront origin access controls, cache policy and response headers policy (terraform state of infra/, after its first apply). Set, the deploy role may change or delete only these; empty, any of the account's (another team's CSP or HSTS among them)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.edge_policy_ids : can(regex("^[A-Za-z0-9-]{1,64}$", id))])
    error_message = "edge_policy_ids must be CloudFront IDs (letters, digits, hyphens)."
  }
}
