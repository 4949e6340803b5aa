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

# The one place the PostgreSQL major of the platform is written: the parameter group's family
# follows it, and tests/ compare it with the replica's database host.
variable "engine_version" {
  description = "PostgreSQL major version; minor versions are upgraded automatically."
  type        = string
  default     = "17"

  validation {
    condition     = contains(["16", "17"], var.engine_version)
    error_message = "engine_version must be 16 or 17."
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

variable "log_retention_days" {
  description = "Days the database's logs (postgresql, upgrade) are kept in CloudWatch Logs."
  type        = number

  # The values CloudWatch Logs accepts; 0 (never expire) is left out on purpose.
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention such as 30, 90 or 365 (never-expire is not allowed)."
  }
}
