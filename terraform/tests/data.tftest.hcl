# Plan-level tests of modules/storage and modules/database with a mocked AWS provider.

mock_provider "aws" {
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }

  override_data {
    target = data.aws_elb_service_account.current
    values = { arn = "arn:aws:iam::127311923021:root" }
  }

  override_data {
    target = data.aws_iam_policy_document.tls_only
    values = { json = "{}" }
  }

  override_data {
    target = data.aws_iam_policy_document.logs
    values = { json = "{}" }
  }
}

variables {
  project     = "mlops"
  environment = "staging"
}

run "buckets_are_versioned_encrypted_and_private" {
  command = plan

  module {
    source = "./modules/storage"
  }

  assert {
    condition     = toset(keys(aws_s3_bucket.this)) == toset(["artifacts", "dags", "data"])
    error_message = "The artifacts, dags and data buckets exist."
  }

  assert {
    condition     = alltrue([for v in aws_s3_bucket_versioning.this : v.versioning_configuration[0].status == "Enabled"])
    error_message = "Every bucket is versioned."
  }

  assert {
    condition = alltrue([
      for e in aws_s3_bucket_server_side_encryption_configuration.this :
      one(one(e.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    ])
    error_message = "Every bucket is encrypted with SSE-KMS."
  }

  assert {
    condition = alltrue([
      for p in aws_s3_bucket_public_access_block.this :
      p.block_public_acls && p.block_public_policy && p.ignore_public_acls && p.restrict_public_buckets
    ])
    error_message = "Every bucket blocks public access."
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
