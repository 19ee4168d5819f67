resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  # Raw API pages are kept for replay and audit only; the typed copy lives in raw/.
  rule {
    id     = "landing-pages"
    status = "Enabled"

    filter {
      prefix = "${var.lake_root}landing/"
    }

    # Only pages kept longer than that move: S3 refuses a rule whose expiration is not later than its transition.
    dynamic "transition" {
      for_each = var.landing_expiration_days > var.landing_transition_days ? [var.landing_transition_days] : []

      content {
        days          = transition.value
        storage_class = "STANDARD_IA"
      }
    }

    expiration {
      days = var.landing_expiration_days
    }
  }

  # One record per run and day folder (some 450,000 a year): the analysts' batch_runs view reads every one kept; the
  # build, the API and the command line list the run log from a day on.
  rule {
    id     = "run-log"
    status = "Enabled"

    filter {
      prefix = "${var.lake_root}runs/"
    }

    expiration {
      days = var.run_log_expiration_days
    }
  }

  # Rejects keep records as the sources sent them (free text, people's usernames): kept to find why a record could
  # not be read, then deleted. The run log keeps how many there were.
  dynamic "rule" {
    for_each = toset(local.reject_sources)

    content {
      id     = "rejects-${rule.value}"
      status = "Enabled"

      filter {
        prefix = "${var.lake_root}raw/${rule.value}/rejects/"
      }

      expiration {
        days = var.rejects_expiration_days
      }
    }
  }

  rule {
    id     = "athena-results"
    status = "Enabled"

    filter {
      prefix = var.athena_results_prefix
    }

    expiration {
      days = var.athena_results_expiration_days
    }
  }

  # Every run rewrites whole day objects: old versions are a safety net, not an archive.
  rule {
    id     = "old-versions-and-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.lake]
}
