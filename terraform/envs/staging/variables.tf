# What differs from one AWS account to another; the values come from terraform.tfvars (git
# ignores it; see terraform.tfvars.example) and are validated in modules/platform.

variable "project" {
  description = "Project name: the Project tag the dynamic inventory filters on."
  type        = string
  default     = "mlops"
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "availability_zones" {
  description = "The two availability zones of the region used for subnets, hosts and RDS."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
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
  description = "Per role (mlflow, airflow, app, airflow_worker): instance count and type. null: modules/compute's sizes, no airflow_worker."
  type = map(object({
    count         = number
    instance_type = string
  }))
  default = null
}
