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
  security_group_ids = { mlflow = "sg-mlflow", airflow = "sg-airflow", app = "sg-app" }
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
    error_message = "One instance per role by default."
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
      mlflow  = { count = 1, instance_type = "t3.medium" }
      airflow = { count = 1, instance_type = "t3.large" }
      app     = { count = 2, instance_type = "t3.medium" }
    }
  }

  assert {
    condition     = aws_instance.this["app-1"].subnet_id != aws_instance.this["app-2"].subnet_id
    error_message = "Two app instances land in different subnets."
  }
}

run "airflow_on_a_2gb_instance_is_refused" {
  command = plan

  variables {
    instances = {
      mlflow  = { count = 1, instance_type = "t3.medium" }
      airflow = { count = 1, instance_type = "t3.small" }
      app     = { count = 1, instance_type = "t3.medium" }
    }
  }

  expect_failures = [var.instances]
}

run "every_role_denies_the_platform_secrets" {
  command = plan

  assert {
    condition     = toset(keys(aws_iam_role_policy.deny_secrets)) == toset(["mlflow", "airflow", "app"])
    error_message = "Every host role carries the Deny on the platform's secrets."
  }
}
