variable "name" {
  description = "Function name; the role is <name>-role and the log group /aws/lambda/<name>."
  type        = string
}

variable "description" {
  description = "What the function does (Lambda console)."
  type        = string
}

variable "role_description" {
  description = "What the execution role is for."
  type        = string
}

variable "role_path" {
  description = "IAM path of the execution role (the service path the pipeline's boundary covers)."
  type        = string
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every role of this stack carries."
  type        = string
}

variable "assume_role_policy" {
  description = "Trust policy (JSON) of the execution role: the Lambda service of this account."
  type        = string
}

variable "policy_name" {
  description = "Name of the role's one inline policy."
  type        = string
}

variable "policy_json" {
  description = "The role's inline policy (JSON from an aws_iam_policy_document in the root module)."
  type        = string
}

variable "handler" {
  description = "Python handler, module.function, inside the function's own subpackage of publisher/."
  type        = string

  validation {
    condition     = can(regex("^publisher\\.[a-z_]+\\.[a-z_.]+$", var.handler))
    error_message = "handler must be publisher.<subpackage>.<module>.<function>."
  }
}

variable "zip_path" {
  description = "Path of the deployment zip (make package writes dist/*.zip)."
  type        = string
}

variable "memory_mb" {
  description = "Memory size in MB."
  type        = number
}

variable "timeout_seconds" {
  description = "Timeout in seconds."
  type        = number
}

variable "layers" {
  description = "Layer ARNs (the AWS-managed Powertools layer when the zips leave it out)."
  type        = list(string)
  default     = []
}

variable "environment" {
  description = "Environment variables: resource names and limits only, never secrets."
  type        = map(string)
}

variable "tracing_mode" {
  description = "X-Ray tracing: Active or PassThrough."
  type        = string

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; null reserves none."
  type        = number
  default     = null
}

variable "dead_letter_arn" {
  description = "SQS queue for failed asynchronous invocations; null for none."
  type        = string
  default     = null
}

variable "publish" {
  description = "Publish a version on every change (SnapStart and provisioned concurrency need one)."
  type        = bool
  default     = false
}

variable "snap_start" {
  description = "SnapStart on published versions."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
}

variable "kms_key_arn" {
  description = "Customer key that encrypts the log group."
  type        = string
}
