variable "name_prefix" {
  description = "Path-like prefix of the secret names, e.g. rosetta/prod/."
  type        = string
  default     = "rosetta/"
}

variable "secrets" {
  description = "Secrets to create, by key (the setting they feed, e.g. dynatrace_token), with a description."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "KMS key encrypting the secret values."
  type        = string
  default     = null
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
