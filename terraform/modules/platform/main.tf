# The whole platform of one environment: network, buckets, hosts, database, load balancer, and
# the broker of Airflow's Celery workers when there are any. Each root in envs/ calls it once,
# so the environments differ only in what they pass and in the profile below.

locals {
  # What an environment is allowed to lose. Staging is cheaper where an outage is acceptable
  # and removable; production keeps its data through mistakes.
  profiles = {
    staging = {
      multi_az              = false # the database and the broker: one zone
      backup_retention_days = 3
      deletion_protection   = false
      force_destroy         = true # buckets may be destroyed while they hold objects
      db_log_retention_days = 30   # the database's logs (DDL included) in CloudWatch Logs
    }
    production = {
      multi_az              = true # a standby (database) and a replica (broker) in the second zone
      backup_retention_days = 14
      deletion_protection   = true
      force_destroy         = false
      db_log_retention_days = 365
    }
  }
  profile = local.profiles[var.environment]
}

data "aws_region" "current" {}

module "network" {
  source = "../network"

  project               = var.project
  environment           = var.environment
  vpc_cidr              = var.vpc_cidr
  availability_zones    = var.availability_zones
  allowed_ingress_cidrs = var.allowed_ingress_cidrs
}

module "storage" {
  source = "../storage"

  project       = var.project
  environment   = var.environment
  force_destroy = local.profile.force_destroy
}

module "compute" {
  source = "../compute"

  project            = var.project
  environment        = var.environment
  instances          = var.instances
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = module.network.security_group_ids
  bucket_arns        = module.storage.bucket_arns
}

module "database" {
  source = "../database"

  project               = var.project
  environment           = var.environment
  instance_class        = var.db_instance_class
  subnet_ids            = module.network.private_subnet_ids
  security_group_id     = module.network.security_group_ids["rds"]
  multi_az              = local.profile.multi_az
  backup_retention_days = local.profile.backup_retention_days
  deletion_protection   = local.profile.deletion_protection
  log_retention_days    = local.profile.db_log_retention_days
}

module "alb" {
  source = "../alb"

  project             = var.project
  environment         = var.environment
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  security_group_id   = module.network.security_group_ids["alb"]
  domain_name         = var.domain_name
  certificate_arn     = var.certificate_arn
  instance_ids        = module.compute.instance_ids
  access_logs_bucket  = module.storage.logs_bucket_name
  deletion_protection = local.profile.deletion_protection
}

# Celery's broker exists only while there are workers: with none, Airflow keeps the
# LocalExecutor and nothing would use it. The count comes from the variables alone (known at
# plan time).
module "broker" {
  source = "../broker"
  count  = module.compute.instance_counts["airflow_worker"] > 0 ? 1 : 0

  project           = var.project
  environment       = var.environment
  node_type         = var.broker_node_type
  subnet_ids        = module.network.private_subnet_ids
  security_group_id = module.network.security_group_ids["broker"]
  multi_az          = local.profile.multi_az
}
