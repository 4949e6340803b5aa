variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
}

variable "environment" {
  description = "Environment name (staging, production, ...)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the DB subnet group (two zones)."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the database (from the network module)."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major version; minor versions are upgraded automatically."
  type        = string
  default     = "16"

  validation {
    condition     = contains(["15", "16"], var.engine_version)
    error_message = "engine_version must be 15 or 16."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.small"
  nullable    = false # null (from modules/platform) takes the default

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class such as db.t4g.small."
  }
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 100
}

variable "database_name" {
  description = "The database MLflow and Airflow share (schemas mlflow and airflow)."
  type        = string
  default     = "mlops"
}

variable "master_username" {
  description = "Master user; its password is generated and kept in Secrets Manager by RDS."
  type        = string
  default     = "mlops_admin"
}

variable "multi_az" {
  description = "Standby in a second zone with automatic failover."
  type        = bool
}

variable "backup_retention_days" {
  description = "Days automated backups are kept (1-35)."
  type        = number

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35: backups are never off."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (on in production)."
  type        = bool
}
