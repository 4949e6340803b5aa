# Staging: the platform with the staging profile of modules/platform (single-AZ database and
# broker, 3 days of backups, no deletion protection, buckets destroyable): cheap, and removable.

locals {
  environment = "staging"
}

provider "aws" {
  region = var.region

  # Every resource that takes tags gets these; instances add Role (modules/compute).
  default_tags {
    tags = {
      Project     = var.project
      Environment = local.environment
      ManagedBy   = "terraform"
    }
  }
}

module "platform" {
  source = "../../modules/platform"

  project               = var.project
  environment           = local.environment
  vpc_cidr              = "10.40.0.0/16"
  availability_zones    = var.availability_zones
  allowed_ingress_cidrs = var.allowed_ingress_cidrs
  domain_name           = var.domain_name
  certificate_arn       = var.certificate_arn
  # Hosts per role, from terraform.tfvars; null takes modules/compute's sizes (no Celery
  # workers). airflow_worker hosts also create the broker (modules/broker).
  instances = var.instances

  # Other sizes: modules/database and modules/broker defaults. To change them:
  # db_instance_class = "db.t4g.medium"
  # broker_node_type  = "cache.t4g.small"
}

# One output: what inventories/aws and the deploy workflow read (modules/platform/outputs.tf).
output "platform" {
  description = "Endpoints, bucket names, instance ids and secret ARNs of this environment."
  value       = module.platform
}
