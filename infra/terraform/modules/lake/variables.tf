variable "bucket_name" {
  description = "Name of the lake bucket."
  type        = string
  default     = "rosetta-lake"
}

variable "lake_root" {
  description = "Key prefix of the lake inside the bucket, with a trailing slash (\"lake/\"), or \"\" for the bucket root."
  type        = string
  default     = "lake/"
}

variable "kms_key_arn" {
  description = "KMS key for default bucket encryption (SSE-KMS with an S3 bucket key)."
  type        = string
  default     = null
}

variable "access_log_bucket_name" {
  description = "Existing bucket that receives S3 server access logs; null creates a dedicated one."
  type        = string
  default     = null
}

variable "access_log_retention_days" {
  description = "Days to keep access logs in the dedicated log bucket."
  type        = number
  default     = 365
}

variable "landing_transition_days" {
  description = "Days after which raw API pages under landing/ move to STANDARD_IA (S3 requires at least 30)."
  type        = number
  default     = 30
}

variable "landing_expiration_days" {
  description = "Days after which raw API pages under landing/ are deleted; replay is possible until then."
  type        = number
  default     = 90
}

variable "run_log_expiration_days" {
  description = "Days after which run records under runs/ are deleted."
  type        = number
  default     = 400

  validation {
    # Each build reads the runs since the one before, from the day before it on: fewer days would delete records a
    # build still reads, and the days they wrote would never be rebuilt.
    condition     = var.run_log_expiration_days >= 2
    error_message = "run_log_expiration_days must be at least 2: a build reads the run records of the day before."
  }
}

variable "rejects_expiration_days" {
  description = "Days after which rejected records under raw/<source>/rejects/ are deleted."
  type        = number
  default     = 90
}

variable "noncurrent_version_expiration_days" {
  description = "Days to keep overwritten object versions (day partitions are rewritten on every run)."
  type        = number
  default     = 30
}

variable "athena_results_prefix" {
  description = "Prefix (relative to the bucket) for Athena query results, expired by lifecycle."
  type        = string
  default     = "athena-results/"
}

variable "athena_results_expiration_days" {
  description = "Days to keep Athena query results."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Allow terraform destroy to empty the buckets (never in production)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
