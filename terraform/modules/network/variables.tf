variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
}

variable "environment" {
  description = "Environment name (staging, production, ...)."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; the subnets are /24s carved from it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of size /20 or larger."
  }
}

variable "availability_zones" {
  description = "Exactly two availability zones: RDS subnet groups and ALBs need two."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 2 && length(distinct(var.availability_zones)) == 2
    error_message = "availability_zones must list exactly two distinct zones."
  }
}

variable "allowed_ingress_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the load balancer's HTTPS listener."
  type        = list(string)

  # An empty list would create a load balancer nobody can reach, which is always a mistake.
  # 0.0.0.0/0 is accepted but must be written out on purpose: there is no default.
  validation {
    condition     = length(var.allowed_ingress_cidrs) > 0
    error_message = "allowed_ingress_cidrs must not be empty."
  }

  validation {
    condition     = alltrue([for c in var.allowed_ingress_cidrs : can(cidrhost(c, 0)) && strcontains(c, "/")])
    error_message = "Every entry of allowed_ingress_cidrs must be an IPv4 CIDR block such as 203.0.113.0/24."
  }
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 365
}
