locals {
  # Bucket names are global: the account id keeps them unique without a random suffix.
  prefix = "${var.project}-${var.environment}"
  suffix = data.aws_caller_identity.current.account_id
}

data "aws_caller_identity" "current" {}

# Three explicit calls rather than a for_each: each bucket is a plain address in plans, and
# checkov follows module calls but not every for_each instance of a resource. The log and SSM
# transfer buckets (logs.tf, ssm_transfer.tf) repeat the private-bucket blocks instead of
# calling ../bucket with options: they differ from it on exactly the points checkov checks
# (no versioning, SSE-S3, no access logging), and a checkov skip written in ../bucket would
# exempt the artifacts, DAGs and data buckets too. Written out, each skip names one bucket.

# MLflow's artifact store (models, plots), written through MLflow's artifact proxy.
module "artifacts" {
  source = "../bucket"

  name                              = "${local.prefix}-artifacts-${local.suffix}"
  log_bucket                        = aws_s3_bucket.logs.id
  log_prefix                        = "s3/artifacts/"
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  force_destroy                     = var.force_destroy
}

# What Airflow's S3 DAG bundle reads; CI uploads dags/ here.
module "dags" {
  source = "../bucket"

  name                              = "${local.prefix}-dags-${local.suffix}"
  log_bucket                        = aws_s3_bucket.logs.id
  log_prefix                        = "s3/dags/"
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  force_destroy                     = var.force_destroy
}

# Training datasets.
module "data" {
  source = "../bucket"

  name                              = "${local.prefix}-data-${local.suffix}"
  log_bucket                        = aws_s3_bucket.logs.id
  log_prefix                        = "s3/data/"
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  force_destroy                     = var.force_destroy
}
