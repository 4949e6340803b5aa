# Plan-level tests of modules/storage with a mocked AWS provider (no credentials, no API
# calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }

  mock_data "aws_elb_service_account" {
    defaults = { arn = "arn:aws:iam::127311923021:root" }
  }
}

variables {
  project     = "mlops"
  environment = "staging"
}

run "storage_creates_the_three_buckets" {
  command = plan

  assert {
    condition     = toset(keys(output.bucket_names)) == toset(["artifacts", "dags", "data"])
    error_message = "The artifacts, dags and data buckets exist."
  }

  assert {
    condition     = output.bucket_names["dags"] == "mlops-staging-dags-123456789012"
    error_message = "Bucket names are <project>-<environment>-<purpose>-<account id>."
  }
}
