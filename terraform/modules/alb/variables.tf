variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
}

variable "environment" {
  description = "Environment name (staging, production, ...)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the target groups."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the load balancer (two zones)."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the load balancer (from the network module)."
  type        = string
}

variable "domain_name" {
  description = "Parent domain: the services answer at dashboard., api., mlflow. and airflow.<domain_name>."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.domain_name))
    error_message = "domain_name must be a DNS name such as mlops.example.com."
  }
}

variable "certificate_arn" {
  description = "ACM certificate covering *.<domain_name>."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "instance_ids" {
  description = "Instance ids per role, keyed by instance name: every instance of mlflow, airflow and app is attached, other roles (airflow_worker) serve nothing here."
  type        = map(map(string))
}

variable "access_logs_bucket" {
  description = "Bucket for the access logs (prefix alb/)."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer (on in production)."
  type        = bool
}
