variable "name" {
  description = "Prefix for the schedule group, the scheduler role and the dead-letter queue."
  type        = string
  default     = "rosetta"
}

variable "schedules" {
  description = "Schedules by name: the target function ARN, a rate()/cron() expression and the JSON event sent."
  type = map(object({
    function_arn = string
    expression   = string
    input        = string
    description  = string
  }))
  default = {}
}

variable "enabled" {
  description = "Create the schedules ENABLED; keep false until the source secrets hold values."
  type        = bool
  default     = false
}

variable "timezone" {
  description = "Time zone of cron expressions."
  type        = string
  default     = "UTC"
}

variable "maximum_retry_attempts" {
  description = "Times the scheduler retries an invocation that could not be delivered."
  type        = number
  default     = 3
}

variable "maximum_event_age_seconds" {
  description = "Age after which an undelivered invocation goes to the dead-letter queue."
  type        = number
  default     = 3600
}

variable "dead_letter_retention_seconds" {
  description = "How long dead letters are kept for inspection and redrive."
  type        = number
  default     = 1209600
}

variable "alarm_actions" {
  description = "SNS topic ARNs notified when dead letters arrive."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
