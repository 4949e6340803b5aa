# Plan-level tests of modules/database with a mocked AWS provider (no credentials, no API
# calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  project            = "mlops"
  environment        = "staging"
  log_retention_days = 30
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

  assert {
    condition     = aws_db_instance.this.engine_version == "17" && aws_db_parameter_group.this.family == "postgres17"
    error_message = "PostgreSQL 17 by default, with a parameter group of its family."
  }

  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "The parameter group refuses connections without TLS."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.this["postgresql"].name == "/aws/rds/instance/mlops-staging/postgresql" &&
      aws_cloudwatch_log_group.this["postgresql"].name == "/aws/rds/instance/${aws_db_instance.this.identifier}/postgresql"
    )
    error_message = "The log group is the one RDS exports the instance's postgresql log to."
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.retention_in_days == 30])
    error_message = "The database's log groups keep their logs for log_retention_days."
  }

  assert {
    condition     = toset(aws_db_instance.this.enabled_cloudwatch_logs_exports) == toset(keys(aws_cloudwatch_log_group.this))
    error_message = "Every exported log has its log group."
  }
}

run "logs_that_never_expire_are_refused" {
  command = plan

  variables {
    subnet_ids            = ["subnet-a", "subnet-b"]
    security_group_id     = "sg-rds"
    multi_az              = false
    backup_retention_days = 3
    deletion_protection   = false
    log_retention_days    = 0
  }

  expect_failures = [var.log_retention_days]
}

run "an_old_major_is_refused" {
  command = plan

  variables {
    subnet_ids            = ["subnet-a", "subnet-b"]
    security_group_id     = "sg-rds"
    multi_az              = false
    backup_retention_days = 3
    deletion_protection   = false
    engine_version        = "15"
  }

  expect_failures = [var.engine_version]
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
