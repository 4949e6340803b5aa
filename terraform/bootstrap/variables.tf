variable "project" {
  description = "Project name: the Project tag, the state bucket's prefix and the platform's parameter path /<project>/."
  type        = string
  default     = "mlops"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,9}$", var.project))
    error_message = "project must be 2-10 characters: lowercase letters, digits, hyphens, starting with a letter (as in modules/platform)."
  }
}

variable "region" {
  description = "AWS region of the state bucket and of the platform (the workflows' AWS_REGION)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "github_repository" {
  description = "The GitHub repository whose workflows assume the roles, as owner/name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, e.g. octo-org/mlops-platform."
  }
}

variable "environments" {
  description = "Environments (terraform/envs/<name> and the GitHub environment of that name) that get a deploy role."
  type        = list(string)
  default     = ["staging", "production"]

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : contains(["staging", "production"], e)])
    error_message = "environments must list staging and/or production (the roots of terraform/envs)."
  }
}

variable "deploy_session_duration_seconds" {
  description = "MaxSessionDuration of the deploy roles: the role-duration-seconds the deploy workflow asks for (RDS creation and the first converge take up to two hours)."
  type        = number
  default     = 7200

  validation {
    condition     = var.deploy_session_duration_seconds >= 3600 && var.deploy_session_duration_seconds <= 43200
    error_message = "deploy_session_duration_seconds must be between 3600 and 43200 (IAM's limits)."
  }
}

variable "state_bucket_name" {
  description = "Name of the Terraform state bucket. null: <project>-terraform-state-<account id>."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "state_version_retention_days" {
  description = "Days an overwritten state version is kept (the state's history, for recovery)."
  type        = number
  default     = 365

  validation {
    condition     = var.state_version_retention_days >= 30
    error_message = "state_version_retention_days must be at least 30."
  }
}

variable "create_github_oidc_provider" {
  description = "Create GitHub's OIDC provider; false when the account already has one (an account holds one per URL)."
  type        = bool
  default     = true
}
