data "aws_caller_identity" "current" {}

locals {
  create_log_bucket = var.access_log_bucket_name == null
  log_bucket_name   = local.create_log_bucket ? aws_s3_bucket.access_logs[0].id : var.access_log_bucket_name

  # The sources whose malformed records are set aside under raw/<source>/rejects/ (lakehouse/schemas.py).
  reject_sources = ["argocd", "dynatrace", "elasticsearch", "gitlab", "servicenow"]
}

resource "aws_s3_bucket" "lake" {
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "lake" {
  bucket        = aws_s3_bucket.lake.id
  target_bucket = local.log_bucket_name
  target_prefix = "s3/${var.bucket_name}/"
}
