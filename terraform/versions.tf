# Not a deployable root: the root of `terraform test` (tests/*.tftest.hcl), which tests each
# module with a mocked AWS provider. `terraform init` here installs the provider whose schema
# the mocks follow. Deploy from envs/staging and envs/production.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}
