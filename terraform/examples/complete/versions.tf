terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }

  # Keep state in an encrypted, access-controlled backend: it holds the OpenSearch
  # password and the generated webhook secret. For example:
  # backend "s3" {
  #   bucket       = "my-terraform-state"
  #   key          = "reckon/terraform.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = { Application = "reckon", ManagedBy = "terraform" }
  }
}
