variable "project" {
  description = "Project name: the Project tag and the first part of every resource name."
  type        = string
  default     = "mlops"

  validation {
    # Target group names (<project>-production-dashboard) are limited to 32 characters.
    condition     = can(regex("^[a-z][a-z0-9-]{1,9}$", var.project))
    error_message = "project must be 2-10 characters: lowercase letters, digits, hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name: the Environment tag the dynamic inventory filters on."
  type        = string
  default     = "staging"

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "availability_zones" {
  description = "The two availability zones used for subnets, hosts and RDS."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"
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
  description = "ACM certificate for *.<domain_name> in the same region."
  type        = string
}

variable "instances" {
  description = "Per role: instance count and type (see modules/compute for the sizing)."
  type = map(object({
    count         = number
    instance_type = string
  }))
  default = {
    mlflow  = { count = 1, instance_type = "t3.medium" }
    airflow = { count = 1, instance_type = "t3.large" }
    app     = { count = 1, instance_type = "t3.medium" }
  }

  validation {
    condition     = alltrue([for r in values(var.instances) : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", r.instance_type))])
    error_message = "Each instance_type must look like an EC2 instance type, e.g. t3.large."
  }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.small"
}
