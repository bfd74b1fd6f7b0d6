variable "local_endpoint_url" {
  description = "Emulator endpoint for every AWS service (moto server), set by scripts/infra_local.py."
  type        = string
  default     = "http://127.0.0.1:4566"
}
