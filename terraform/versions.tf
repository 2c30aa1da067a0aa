terraform {
  # 1.7: mock providers in `terraform test`.
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

# No provider block here: this directory is both a root module (the provider then comes
# from AWS_REGION / AWS_PROFILE) and a module that examples/complete calls with its own
# provider configuration.
