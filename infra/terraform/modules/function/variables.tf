variable "name" {
  description = "Function name in AWS, e.g. rosetta-prod-ingest-dynatrace."
  type        = string
  default     = "rosetta-function"
}

variable "service" {
  description = "Service name the code uses for Powertools logs and metrics (the metric dimension `service`)."
  type        = string
  default     = "rosetta"
}

variable "description" {
  description = "What the function does."
  type        = string
  default     = ""
}

variable "image_uri" {
  description = "Container image (repository URL with a tag or a digest)."
  type        = string
  default     = null
}

variable "command" {
  description = "Image CMD override: the handler as module.attribute, e.g. [\"functions.api.main.handler\"]."
  type        = list(string)
  default     = []
}

variable "architecture" {
  description = "x86_64 or arm64; must match the image."
  type        = string
  default     = "x86_64"
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it: 1,769 MB is one vCPU)."
  type        = number
  default     = 1024
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 300
}

variable "ephemeral_storage_mb" {
  description = "Size of /tmp in MB (DuckDB spills there)."
  type        = number
  default     = 1024
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved (and capped) for the function; 1 keeps scheduled runs from overlapping."
  type        = number
  default     = 1
}

variable "log_level" {
  description = "Level of the function's log lines: POWERTOOLS_LOG_LEVEL and Lambda's application_log_level. DEBUG or INFO: Powertools' metric lines (EMF) carry no level, which Lambda reads as INFO, and a higher level would drop the metrics the alarms read."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO"], var.log_level)
    error_message = "log_level is DEBUG or INFO: above INFO, Lambda would drop the metric lines the alarms read."
  }
}

variable "environment" {
  description = "Environment variables (no secret values: secrets are passed as ARNs)."
  type        = map(string)
  default     = {}
}

variable "tracing_mode" {
  description = "X-Ray tracing mode: Active or PassThrough."
  type        = string
  default     = "Active"
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

variable "read_prefixes" {
  description = "Lake prefixes (relative to the lake root) the function may read, e.g. [\"ref/\"]."
  type        = list(string)
  default     = []
}

variable "write_prefixes" {
  description = "Lake prefixes the function may write (and read back, for merges)."
  type        = list(string)
  default     = []
}

variable "delete_prefixes" {
  description = "Lake prefixes under which the function may delete objects (the build removes mart objects a table no longer has). The lake bucket is versioned, so a delete can be undone."
  type        = list(string)
  default     = []
}

variable "heads_bucket" {
  description = "The function checks the lake bucket at start (HeadBucket). S3 authorises that as a ListBucket without a prefix, which also lists every key of the bucket: only such a function is granted it."
  type        = bool
  default     = false
}

variable "lake_kms_key_arn" {
  description = "KMS key of the lake bucket."
  type        = string
  default     = null
}

variable "secret_arns" {
  description = "Secrets Manager secrets the function may read."
  type        = list(string)
  default     = []
}

variable "secrets_kms_key_arn" {
  description = "KMS key encrypting the secrets."
  type        = string
  default     = null
}

variable "invoke_function_arns" {
  description = "Functions this one may invoke (the API's batch triggers)."
  type        = list(string)
  default     = []
}

variable "dead_letter_queue_arn" {
  description = "SQS queue receiving events of asynchronous invocations that failed every attempt."
  type        = string
  default     = null
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed asynchronous invocation (0-2)."
  type        = number
  default     = 1
}

variable "maximum_event_age_seconds" {
  description = "Oldest age of an asynchronous event still worth running."
  type        = number
  default     = 3600
}

variable "vpc_subnet_ids" {
  description = "Subnets to attach the function to (to reach sources on a private network); empty for none."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function's network interfaces, with vpc_subnet_ids."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Days to keep the function's logs."
  type        = number
  default     = 365
}

variable "logs_kms_key_arn" {
  description = "KMS key encrypting the log group."
  type        = string
  default     = null
}

variable "alarm_actions" {
  description = "SNS topic ARNs notified when an alarm fires or recovers."
  type        = list(string)
  default     = []
}

variable "error_alarm_period_seconds" {
  description = "Window of the failed-run alarm: any error in it fires."
  type        = number
  default     = 300
}

variable "scheduled" {
  description = "A schedule runs the function: its failed-runs alarm then stays in ALARM until a later run succeeds (no data between runs keeps the state); otherwise it returns to OK one period after the error."
  type        = bool
  default     = false
}

variable "freshness_alarm" {
  description = "Alarm on a custom Powertools metric that proves recent successful runs (null for none). Missing data counts as breaching. actions_enabled false keeps it from notifying (while no schedule runs the function)."
  type = object({
    metric_name         = string
    namespace           = string
    dimensions          = map(string)
    statistic           = string
    comparison_operator = string
    threshold           = number
    period_seconds      = number
    evaluation_periods  = number
    description         = string
    actions_enabled     = bool
  })
  default = null
}

variable "rejects_alarm" {
  description = "Alarm on the Powertools metric counting the source records an ingestion set aside (null for none)."
  type = object({
    metric_name    = string
    namespace      = string
    dimensions     = map(string)
    threshold      = number
    period_seconds = number
    description    = string
  })
  default = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
