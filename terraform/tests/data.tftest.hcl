# Plan-level tests of modules/storage and modules/database with a mocked AWS provider.

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

  module {
    source = "./modules/storage"
  }

  assert {
    condition     = toset(keys(output.bucket_names)) == toset(["artifacts", "dags", "data"])
    error_message = "The artifacts, dags and data buckets exist."
  }

  assert {
    condition     = output.bucket_names["dags"] == "mlops-staging-dags-123456789012"
    error_message = "Bucket names are <project>-<environment>-<purpose>-<account id>."
  }
}

run "a_bucket_is_versioned_encrypted_and_private" {
  command = plan

  module {
    source = "./modules/bucket"
  }

  variables {
    name       = "mlops-staging-artifacts-123456789012"
    log_bucket = "mlops-staging-logs-123456789012"
    log_prefix = "s3/artifacts/"
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "The bucket is versioned."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "The bucket is encrypted with SSE-KMS."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls &&
      aws_s3_bucket_public_access_block.this.block_public_policy &&
      aws_s3_bucket_public_access_block.this.ignore_public_acls &&
      aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "The bucket blocks public access."
  }
}

run "database_is_encrypted_private_and_password_managed" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    subnet_ids            = ["subnet-a", "subnet-b"]
    security_group_id     = "sg-rds"
    multi_az              = true
    backup_retention_days = 14
    deletion_protection   = true
  }

  assert {
    condition     = aws_db_instance.this.storage_encrypted && !aws_db_instance.this.publicly_accessible
    error_message = "RDS is encrypted and not public."
  }

  assert {
    condition     = aws_db_instance.this.manage_master_user_password
    error_message = "RDS manages the master password in Secrets Manager."
  }

  assert {
    condition     = aws_db_instance.this.deletion_protection && !aws_db_instance.this.skip_final_snapshot
    error_message = "A protected database keeps a final snapshot."
  }
}

run "backups_cannot_be_turned_off" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    subnet_ids            = ["subnet-a", "subnet-b"]
    security_group_id     = "sg-rds"
    multi_az              = false
    backup_retention_days = 0
    deletion_protection   = false
  }

  expect_failures = [var.backup_retention_days]
}
