terraform {
  required_version = ">= 1.9.0" # a variable's validation reads another variable (environments)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}
