# Plan-level tests of modules/platform (the whole environment) with a mocked AWS provider (no
# credentials, no API calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }

  mock_data "aws_elb_service_account" {
    defaults = { arn = "arn:aws:iam::156460612806:root" }
  }

  mock_data "aws_ami" {
    defaults = { id = "ami-0123456789abcdef0" }
  }
}

variables {
  project               = "mlops"
  environment           = "staging"
  vpc_cidr              = "10.40.0.0/16"
  availability_zones    = ["eu-west-1a", "eu-west-1b"]
  allowed_ingress_cidrs = ["203.0.113.0/24"]
  domain_name           = "staging.mlops.example.com"
  certificate_arn       = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
}

run "staging_is_cheap_and_removable" {
  command = plan

  assert {
    condition = (
      !local.profile.multi_az && !local.profile.deletion_protection &&
      local.profile.force_destroy && local.profile.backup_retention_days == 3
    )
    error_message = "Staging: single-AZ database, 3 days of backups, removable."
  }

  assert {
    condition     = local.profile.db_log_retention_days == 30
    error_message = "Staging keeps the database's logs 30 days."
  }

  assert {
    condition     = output.region == "eu-west-1"
    error_message = "The region output is the provider's region."
  }

  assert {
    condition     = output.bucket_names["data"] == "mlops-staging-data-123456789012"
    error_message = "The storage module's bucket names are passed through."
  }

  assert {
    condition     = output.service_urls["airflow"] == "https://airflow.staging.mlops.example.com"
    error_message = "Service URLs are built from domain_name."
  }

  assert {
    condition     = [for role in ["mlflow", "airflow", "app", "airflow_worker"] : length(output.instance_ids[role])] == [1, 1, 1, 0]
    error_message = "Without instances, modules/compute's default of one instance per service role and no worker applies."
  }

  assert {
    condition = (
      length(module.broker) == 0 && output.broker_address == null &&
      output.broker_port == null && output.broker_auth_secret_arn == null
    )
    error_message = "Without airflow_worker instances there is no broker, and its outputs are null."
  }
}

run "production_keeps_its_data" {
  command = plan

  variables {
    environment = "production"
    vpc_cidr    = "10.41.0.0/16"
    instances = {
      mlflow         = { count = 2, instance_type = "t3.medium" }
      airflow        = { count = 1, instance_type = "t3.large" }
      app            = { count = 2, instance_type = "t3.medium" }
      airflow_worker = { count = 2, instance_type = "t3.large" }
    }
  }

  assert {
    condition = (
      local.profile.multi_az && local.profile.deletion_protection &&
      !local.profile.force_destroy && local.profile.backup_retention_days == 14
    )
    error_message = "Production: Multi-AZ, 14 days of backups, deletion protection, buckets kept."
  }

  assert {
    condition     = local.profile.db_log_retention_days == 365
    error_message = "Production keeps the database's logs a year."
  }

  assert {
    condition     = length(output.instance_ids["app"]) == 2 && length(output.instance_ids["airflow_worker"]) == 2
    error_message = "instances is passed to modules/compute."
  }

  assert {
    condition     = length(module.broker) == 1
    error_message = "airflow_worker instances bring the broker."
  }
}

run "staging_workers_get_a_single_node_broker" {
  command = plan

  variables {
    instances = {
      mlflow         = { count = 1, instance_type = "t3.medium" }
      airflow        = { count = 1, instance_type = "t3.large" }
      app            = { count = 1, instance_type = "t3.medium" }
      airflow_worker = { count = 1, instance_type = "t3.large" }
    }
  }

  assert {
    condition     = length(module.broker) == 1 && !local.profile.multi_az
    error_message = "One worker is enough for a broker; staging's profile makes it a single node."
  }
}

run "unknown_environment_is_refused" {
  command = plan

  variables {
    environment = "dev"
  }

  expect_failures = [var.environment]
}

run "long_project_name_is_refused" {
  command = plan

  variables {
    project = "mlops-platform"
  }

  expect_failures = [var.project]
}
