# Production: Multi-AZ database, 14 days of backups, deletion protection on the database and
# the load balancer, buckets that cannot be destroyed while they hold objects.

module "network" {
  source = "../../modules/network"

  project               = var.project
  environment           = var.environment
  vpc_cidr              = var.vpc_cidr
  availability_zones    = var.availability_zones
  allowed_ingress_cidrs = var.allowed_ingress_cidrs
}

module "storage" {
  source = "../../modules/storage"

  project       = var.project
  environment   = var.environment
  force_destroy = false
}

module "compute" {
  source = "../../modules/compute"

  project            = var.project
  environment        = var.environment
  instances          = var.instances
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = module.network.security_group_ids
  bucket_arns        = module.storage.bucket_arns
}

module "database" {
  source = "../../modules/database"

  project               = var.project
  environment           = var.environment
  instance_class        = var.db_instance_class
  subnet_ids            = module.network.private_subnet_ids
  security_group_id     = module.network.security_group_ids["rds"]
  multi_az              = true
  backup_retention_days = 14
  deletion_protection   = true
}

module "alb" {
  source = "../../modules/alb"

  project             = var.project
  environment         = var.environment
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  security_group_id   = module.network.security_group_ids["alb"]
  domain_name         = var.domain_name
  certificate_arn     = var.certificate_arn
  instance_ids        = module.compute.instance_ids
  access_logs_bucket  = module.storage.logs_bucket_name
  deletion_protection = true
}
