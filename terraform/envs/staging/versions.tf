terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration: the state bucket and its region come from `-backend-config`
  # (see backend.hcl.example), so no account-specific name is committed. S3-native locking
  # (a .tflock object next to the state) needs no DynamoDB table.
  backend "s3" {
    key          = "mlops-platform/staging/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
