variable "name" {
  description = "Name of the HTTP API."
  type        = string
  default     = "rosetta-api"
}

variable "function_name" {
  description = "Name of the API function."
  type        = string
  default     = null
}

variable "function_invoke_arn" {
  description = "Invoke ARN of the API function."
  type        = string
  default     = null
}

variable "jwt_issuer" {
  description = "Issuer URL of the identity provider (its /.well-known/openid-configuration must be public)."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Accepted audiences (the aud claim), e.g. the Backstage backend's client id."
  type        = list(string)
  default     = []
}

variable "reader_routes" {
  description = "Routes any valid token may call."
  type        = list(string)
  default     = ["GET /monitoring/{proxy+}"]
}

variable "admin_routes" {
  description = "Routes that also need the admin scope in the token; more specific than the reader routes, so they win."
  type        = list(string)
  default = [
    "GET /monitoring/admin/{proxy+}",
    "POST /monitoring/admin/{proxy+}",
  ]
}

variable "public_routes" {
  description = "Routes the app answers without a credential (its health check); no token is asked for them."
  type        = list(string)
  default     = ["GET /monitoring/health", "HEAD /monitoring/health"]
}

variable "admin_scope" {
  description = "OAuth scope (scope/scp claim) required on admin routes."
  type        = string
  default     = "rosetta/admin"
}

variable "cors_allow_origins" {
  description = "Browser origins allowed to call the API, e.g. the Backstage URL."
  type        = list(string)
  default     = []
}

variable "throttling_burst_limit" {
  description = "Burst limit of the default stage."
  type        = number
  default     = 50
}

variable "throttling_rate_limit" {
  description = "Steady requests per second of the default stage."
  type        = number
  default     = 20
}

variable "integration_timeout_ms" {
  description = "How long API Gateway waits for the function (at most 30,000)."
  type        = number
  default     = 29000
}

variable "log_retention_days" {
  description = "Days to keep access logs."
  type        = number
  default     = 365
}

variable "logs_kms_key_arn" {
  description = "KMS key encrypting the access log group."
  type        = string
  default     = null
}

variable "alarm_actions" {
  description = "SNS topic ARNs notified on server errors."
  type        = list(string)
  default     = []
}

variable "server_error_threshold" {
  description = "5xx responses in five minutes that raise the alarm."
  type        = number
  default     = 5
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
