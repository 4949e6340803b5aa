terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # No backend block: this root creates the state bucket the other roots use, so its own
  # state starts on the administrator's disk (terraform.tfstate, git-ignored). Keep that file
  # safe, or move the state into the bucket once it exists: add
  #   backend "s3" {
  #     key          = "mlops-platform/bootstrap/terraform.tfstate"
  #     encrypt      = true
  #     use_lockfile = true
  #   }
  # here and run `terraform init -migrate-state -backend-config=...` (README.md here).
}
