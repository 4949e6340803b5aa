# Plan-level tests of modules/database with a mocked AWS provider (no credentials, no API
# calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {}

variables {
  project     = "mlops"
  environment = "staging"
}

run "database_is_encrypted_private_and_password_managed" {
  command = plan

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

  variables {
    subnet_ids            = ["subnet-a", "subnet-b"]
    security_group_id     = "sg-rds"
    multi_az              = false
    backup_retention_days = 0
    deletion_protection   = false
  }

  expect_failures = [var.backup_retention_days]
}
