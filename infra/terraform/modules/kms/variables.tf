variable "alias" {
  description = "Alias name without the alias/ prefix, e.g. rosetta-prod-lake."
  type        = string
  default     = "rosetta-key"
}

variable "description" {
  description = "What the key protects."
  type        = string
  default     = "Rosetta Monitoring data key"
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect."
  type        = number
  default     = 30
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs in this account and region use the key for log groups."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
