# Sizes, CIDR checks and host-name rules are validated once, in the module that uses them.

variable "project" {
  description = "Project name: the Project tag and the first part of every resource name."
  type        = string

  validation {
    # Target group names (<project>-production-dashboard) are limited to 32 characters.
    condition     = can(regex("^[a-z][a-z0-9-]{1,9}$", var.project))
    error_message = "project must be 2-10 characters: lowercase letters, digits, hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name, the Environment tag the dynamic inventory filters on; picks the profile in main.tf."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the environment's VPC (one per environment, so they can be peered)."
  type        = string
}

variable "availability_zones" {
  description = "The two availability zones used for subnets, hosts and RDS."
  type        = list(string)
}

variable "allowed_ingress_cidrs" {
  description = "Networks allowed to reach the load balancer (HTTPS). No default: choose on purpose."
  type        = list(string)
}

variable "domain_name" {
  description = "Parent domain of the service host names (dashboard., api., mlflow., airflow.)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for *.<domain_name> in the environment's region."
  type        = string
}

variable "instances" {
  description = "Per role (mlflow, airflow, app, airflow_worker): instance count and type. null: the sizes of modules/compute (measured there, no airflow_worker). Workers also create the broker."
  type = map(object({
    count         = number
    instance_type = string
  }))
  default = null
}

variable "db_instance_class" {
  description = "RDS instance class. null: the default of modules/database."
  type        = string
  default     = null
}

variable "broker_node_type" {
  description = "ElastiCache node type of the broker (only with airflow_worker instances). null: the default of modules/broker."
  type        = string
  default     = null
}
