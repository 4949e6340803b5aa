# What the deploy needs before its first run, applied once by an administrator of the account
# (README.md, "Deploy to AWS"): the Terraform state bucket, GitHub's OIDC provider, a
# read-only plan role for pull requests and main, and one deploy role per environment that
# only that GitHub environment (with its required reviewers) can assume. Its outputs are the
# repository and environment variables the workflows read.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.project
      Environment = "bootstrap"
      ManagedBy   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = var.region

  state_bucket = coalesce(var.state_bucket_name, "${var.project}-terraform-state-${local.account_id}")
  # The state keys of terraform/envs/*/versions.tf: mlops-platform/<environment>/terraform.tfstate
  state_prefix = "mlops-platform/"

  # The platform's secrets: .github/scripts/aws_secrets.py's /<project>/<environment>/<name>
  parameters_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/${var.project}"
  # modules/broker's AUTH tokens (<project>-<environment>-broker-auth-<suffix>), every environment
  broker_secrets_arn = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${var.project}-*-broker-auth-*"
}
