provider "aws" {
  region = var.region

  # Every resource that takes tags gets these; instances add Role (modules/compute).
  default_tags {
    tags = {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
