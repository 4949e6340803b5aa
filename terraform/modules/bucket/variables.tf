variable "name" {
  description = "Globally unique bucket name."
  type        = string
}

variable "log_bucket" {
  description = "Bucket that receives this bucket's S3 server access logs."
  type        = string
}

variable "log_prefix" {
  description = "Key prefix of the access logs in log_bucket."
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

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the bucket while it holds objects."
  type        = bool
  default     = false
}
