# What the Ansible side (inventories/aws) and the deploy workflow read: the roots publish this
# module's outputs as their single output `platform`.

output "region" {
  description = "AWS region."
  value       = data.aws_region.current.region
}

output "instance_ids" {
  description = "Instance ids per role (mlflow, airflow, app, airflow_worker), keyed by instance name."
  value       = module.compute.instance_ids
}

output "db_address" {
  description = "RDS endpoint host name."
  value       = module.database.address
}

output "db_port" {
  description = "RDS endpoint port."
  value       = module.database.port
}

output "db_name" {
  description = "Database shared by MLflow and Airflow."
  value       = module.database.database_name
}

output "db_master_username" {
  description = "RDS master user name."
  value       = module.database.master_username
}

output "db_master_secret_arn" {
  description = "Secrets Manager secret with the RDS master password (managed by RDS)."
  value       = module.database.master_user_secret_arn
}

output "bucket_names" {
  description = "Bucket names: artifacts, dags, data."
  value       = module.storage.bucket_names
}

output "ssm_bucket_name" {
  description = "Bucket Ansible's aws_ssm connection transfers module files through."
  value       = module.storage.ssm_transfer_bucket_name
}

output "alb_dns_name" {
  description = "Load balancer DNS name: point the service host names at it."
  value       = module.alb.dns_name
}

output "service_urls" {
  description = "URL per service."
  value       = module.alb.urls
}

# The broker's outputs are null without workers (no broker): Ansible reads them only for the
# CeleryExecutor.
output "broker_address" {
  description = "Primary endpoint of the Celery broker (ElastiCache for Valkey, TLS); null without airflow_worker instances."
  value       = one(module.broker[*].address)
}

output "broker_port" {
  description = "Port of the broker's endpoint; null without airflow_worker instances."
  value       = one(module.broker[*].port)
}

output "broker_auth_secret_arn" {
  description = "Secrets Manager secret with the broker's AUTH token (plain string); null without airflow_worker instances."
  value       = one(module.broker[*].auth_secret_arn)
}
