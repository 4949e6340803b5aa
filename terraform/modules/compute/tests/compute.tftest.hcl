# Plan-level tests of modules/compute with a mocked AWS provider (no credentials, no API
# calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_ami" {
    defaults = { id = "ami-0123456789abcdef0" }
  }
}

variables {
  project            = "mlops"
  environment        = "staging"
  subnet_ids         = ["subnet-a", "subnet-b"]
  security_group_ids = { mlflow = "sg-mlflow", airflow = "sg-airflow", app = "sg-app", airflow_worker = "sg-worker" }
  bucket_arns = {
    artifacts = "arn:aws:s3:::mlops-staging-artifacts"
    dags      = "arn:aws:s3:::mlops-staging-dags"
    data      = "arn:aws:s3:::mlops-staging-data"
  }
}

run "instances_are_tagged_hardened_and_encrypted" {
  command = plan

  assert {
    condition     = length(aws_instance.this) == 3
    error_message = "One instance per service role by default, and no Celery worker."
  }

  assert {
    condition     = output.instance_ids["airflow_worker"] == {} && output.instance_counts["airflow_worker"] == 0
    error_message = "No airflow_worker instance by default (the LocalExecutor stays the small default)."
  }

  assert {
    condition = alltrue([
      for k, i in aws_instance.this :
      i.tags["Project"] == "mlops" && i.tags["Environment"] == "staging" && contains(["mlflow", "airflow", "app"], i.tags["Role"])
    ])
    error_message = "Every instance must carry Project, Environment and Role tags."
  }

  assert {
    condition     = aws_instance.this["airflow-1"].tags["Role"] == "airflow"
    error_message = "The Role tag must name the instance's role."
  }

  assert {
    condition     = alltrue([for k, i in aws_instance.this : i.metadata_options[0].http_tokens == "required"])
    error_message = "IMDSv2 must be required on every instance."
  }

  assert {
    condition     = alltrue([for k, i in aws_instance.this : i.root_block_device[0].encrypted])
    error_message = "Every root volume must be encrypted."
  }

  assert {
    condition     = alltrue([for k, i in aws_instance.this : !i.associate_public_ip_address])
    error_message = "No instance gets a public IP."
  }

  assert {
    condition     = aws_instance.this["airflow-1"].instance_type == "t3.large"
    error_message = "Airflow defaults to t3.large (see the sizing note in variables.tf)."
  }

  assert {
    condition     = !contains(keys(aws_iam_role_policy.s3), "app")
    error_message = "The app role has no S3 access."
  }
}

run "counts_spread_instances_over_subnets" {
  command = plan

  variables {
    instances = {
      mlflow         = { count = 1, instance_type = "t3.medium" }
      airflow        = { count = 1, instance_type = "t3.large" }
      app            = { count = 2, instance_type = "t3.medium" }
      airflow_worker = { count = 0, instance_type = "t3.large" }
    }
  }

  assert {
    condition     = aws_instance.this["app-1"].subnet_id != aws_instance.this["app-2"].subnet_id
    error_message = "Two app instances land in different subnets."
  }
}

run "celery_workers_get_the_airflow_hosts_access" {
  command = plan

  variables {
    instances = {
      mlflow         = { count = 1, instance_type = "t3.medium" }
      airflow        = { count = 1, instance_type = "t3.large" }
      app            = { count = 1, instance_type = "t3.medium" }
      airflow_worker = { count = 2, instance_type = "t3.xlarge" }
    }
  }

  assert {
    condition     = toset([for k, i in aws_instance.this : k if i.tags["Role"] == "airflow_worker"]) == toset(["airflow_worker-1", "airflow_worker-2"])
    error_message = "Two workers, named airflow_worker-<n> and tagged Role=airflow_worker."
  }

  assert {
    condition     = aws_instance.this["airflow_worker-1"].subnet_id != aws_instance.this["airflow_worker-2"].subnet_id
    error_message = "The workers are spread over both subnets (zones)."
  }

  assert {
    condition = alltrue([
      for k in ["airflow_worker-1", "airflow_worker-2"] :
      aws_instance.this[k].vpc_security_group_ids == toset(["sg-worker"]) &&
      aws_instance.this[k].iam_instance_profile == aws_iam_instance_profile.role["airflow_worker"].name &&
      aws_instance.this[k].instance_type == "t3.xlarge"
    ])
    error_message = "Workers use their own security group and instance profile, of their own type."
  }

  assert {
    condition = (
      local.s3_read_buckets["airflow_worker"] == local.s3_read_buckets["airflow"] &&
      local.s3_write_buckets["airflow_worker"] == local.s3_write_buckets["airflow"] &&
      local.s3_write_objects["airflow_worker"] == local.s3_write_objects["airflow"] &&
      contains(keys(aws_iam_role_policy.s3), "airflow_worker")
    )
    error_message = "The workers' profile reads and writes exactly what the airflow host's does."
  }

  assert {
    condition     = output.instance_counts == { mlflow = 1, airflow = 1, app = 1, airflow_worker = 2 }
    error_message = "instance_counts gives each role's count."
  }
}

run "a_worker_on_a_2gb_instance_is_refused" {
  command = plan

  variables {
    instances = {
      mlflow         = { count = 1, instance_type = "t3.medium" }
      airflow        = { count = 1, instance_type = "t3.large" }
      app            = { count = 1, instance_type = "t3.medium" }
      airflow_worker = { count = 1, instance_type = "t3.small" }
    }
  }

  expect_failures = [var.instances]
}

run "no_app_host_is_refused" {
  command = plan

  variables {
    instances = {
      mlflow         = { count = 1, instance_type = "t3.medium" }
      airflow        = { count = 1, instance_type = "t3.large" }
      app            = { count = 0, instance_type = "t3.medium" }
      airflow_worker = { count = 0, instance_type = "t3.large" }
    }
  }

  expect_failures = [var.instances]
}

run "airflow_on_a_2gb_instance_is_refused" {
  command = plan

  variables {
    instances = {
      mlflow         = { count = 1, instance_type = "t3.medium" }
      airflow        = { count = 1, instance_type = "t3.small" }
      app            = { count = 1, instance_type = "t3.medium" }
      airflow_worker = { count = 0, instance_type = "t3.large" }
    }
  }

  expect_failures = [var.instances]
}

run "every_role_denies_the_platform_secrets" {
  command = plan

  assert {
    condition     = toset(keys(aws_iam_role_policy.deny_secrets)) == toset(["mlflow", "airflow", "app", "airflow_worker"])
    error_message = "Every host role carries the Deny on the platform's secrets."
  }
}

run "airflow_may_put_only_the_scoring_outputs" {
  command = plan

  assert {
    condition = (
      length(local.s3_write_objects["airflow"]) == 6 &&
      alltrue([for r in local.s3_write_objects["airflow"] : startswith(r, "arn:aws:s3:::mlops-staging-data/")]) &&
      contains(local.s3_write_objects["airflow"], "arn:aws:s3:::mlops-staging-data/*.scored/*/predictions.csv") &&
      contains(local.s3_write_objects["airflow"], "arn:aws:s3:::mlops-staging-data/scored/*/summary.json") &&
      !contains(local.s3_write_objects["airflow"], "arn:aws:s3:::mlops-staging-data/*")
    )
    error_message = "Airflow puts objects in the data bucket only at the score_dataset DAG's outputs."
  }

  assert {
    condition     = local.s3_write_objects["mlflow"] == [] && local.s3_write_objects["app"] == []
    error_message = "Only the airflow roles put scoring outputs."
  }
}
