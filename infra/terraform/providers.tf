provider "aws" {
  # null falls back to AWS_REGION / the profile, so no region is written into the code.
  region = var.region

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}
