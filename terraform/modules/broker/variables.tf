variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
}

variable "environment" {
  description = "Environment name (staging, production, ...)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cache subnet group (two zones)."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the broker (from the network module)."
  type        = string
}

# The parameter group's family (valkey<major>) follows it; another major is a deliberate
# change (its parameter group is checked first), so the validation names the one in use.
variable "engine_version" {
  description = "Valkey version as <major>.<minor>; patch versions are applied automatically."
  type        = string
  default     = "8.2"

  validation {
    condition     = can(regex("^8\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a Valkey 8 version such as 8.2."
  }
}

variable "node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
  nullable    = false # null (from modules/platform) takes the default

  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type must be an ElastiCache node type such as cache.t4g.micro."
  }
}

variable "multi_az" {
  description = "A replica in a second zone with automatic failover; otherwise a single node."
  type        = bool
}
