variable "project" {
  description = "Project name, the first part of every bucket name."
  type        = string
}

variable "environment" {
  description = "Environment name (staging, production, ...)."
  type        = string
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version is kept before it expires."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs and load balancer access logs are kept."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete non-empty buckets (staging only)."
  type        = bool
  default     = false
}
