# What the workflows read (see the head of .github/workflows/deploy-environment.yml): set them
# as repository variables and as each GitHub environment's variables.

output "github_repository_variables" {
  description = "Repository variables of the workflows (Settings > Secrets and variables > Actions > Variables)."
  value = {
    AWS_REGION        = var.region
    AWS_PLAN_ROLE_ARN = aws_iam_role.plan.arn
    TF_STATE_BUCKET   = aws_s3_bucket.state.bucket
    TF_STATE_REGION   = var.region
  }
}

output "github_environment_variables" {
  description = "Variables of each GitHub environment (staging, production): the role its deploy job assumes."
  value = {
    for environment, role in aws_iam_role.deploy : environment => { AWS_DEPLOY_ROLE_ARN = role.arn }
  }
}

output "state_bucket" {
  description = "The Terraform state bucket: `bucket` of each environment's backend.hcl."
  value       = aws_s3_bucket.state.bucket
}

output "oidc_provider_arn" {
  description = "GitHub's OIDC provider in this account."
  value       = local.oidc_provider_arn
}
