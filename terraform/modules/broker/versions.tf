terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    # random_password: the AUTH token (main.tf says why it is not an ephemeral value).
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}
