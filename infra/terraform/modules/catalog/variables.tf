variable "database_name" {
  description = "Glue database holding the raw_* and mv_* tables (letters, digits and underscores)."
  type        = string
  default     = "rosetta"
}

variable "bucket_name" {
  description = "Lake bucket."
  type        = string
  default     = null
}

variable "bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string
  default     = null
}

variable "lake_root" {
  description = "Key prefix of the lake inside the bucket, with a trailing slash, or \"\"."
  type        = string
  default     = ""
}

variable "kms_key_arn" {
  description = "KMS key encrypting Athena query results (the lake key)."
  type        = string
  default     = null
}

variable "athena_results_prefix" {
  description = "Prefix of the lake bucket where the workgroup writes query results."
  type        = string
  default     = "athena-results/"
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Athena cancels a query of the workgroup that would scan more than this (bytes)."
  type        = number
  default     = 107374182400
}

variable "projection_start_day" {
  description = "First day (YYYY-MM-DD) partition projection considers: the earliest day a record of the lake lies under (its own day, not the day it was read)."
  type        = string
  default     = "2000-01-01"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
