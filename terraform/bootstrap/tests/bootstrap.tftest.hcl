# Plan-level tests of terraform/bootstrap with a mocked AWS provider (no credentials, no API
# calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }

  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  github_repository = "octo-org/mlops-platform"
  region            = "eu-west-1"
}

run "one_deploy_role_per_environment_with_the_workflows_session_length" {
  command = plan

  assert {
    condition     = toset(keys(aws_iam_role.deploy)) == toset(["staging", "production"])
    error_message = "A deploy role for staging and one for production."
  }

  assert {
    condition     = alltrue([for r in aws_iam_role.deploy : r.max_session_duration == 7200])
    error_message = "The deploy roles allow the 7200 s the deploy workflow asks for (role-duration-seconds)."
  }

  assert {
    condition     = aws_iam_role.deploy["production"].name == "mlops-production-deploy"
    error_message = "Deploy roles are named <project>-<environment>-deploy."
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 1 && one(aws_iam_openid_connect_provider.github).url == "https://token.actions.githubusercontent.com"
    error_message = "GitHub's OIDC provider is created by default."
  }
}

run "the_state_bucket_is_named_after_the_account_and_versioned" {
  command = plan

  assert {
    condition     = aws_s3_bucket.state.bucket == "mlops-terraform-state-123456789012"
    error_message = "The state bucket is <project>-terraform-state-<account id> by default."
  }

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "The state bucket is versioned."
  }

  assert {
    condition     = output.github_repository_variables["TF_STATE_BUCKET"] == "mlops-terraform-state-123456789012" && output.github_repository_variables["AWS_REGION"] == "eu-west-1"
    error_message = "The repository variables name the state bucket and the region."
  }
}

run "an_existing_oidc_provider_is_looked_up_instead" {
  command = plan

  variables {
    create_github_oidc_provider = false
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "create_github_oidc_provider = false creates no provider."
  }
}

run "a_repository_without_owner_is_refused" {
  command = plan

  variables {
    github_repository = "mlops-platform"
  }

  expect_failures = [var.github_repository]
}

run "an_unknown_environment_is_refused" {
  command = plan

  variables {
    environments = ["staging", "dev"]
  }

  expect_failures = [var.environments]
}

run "a_session_longer_than_iam_allows_is_refused" {
  command = plan

  variables {
    deploy_session_duration_seconds = 86400
  }

  expect_failures = [var.deploy_session_duration_seconds]
}
