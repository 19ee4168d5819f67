variable "name" {
  description = "Repository name."
  type        = string
  default     = "rosetta-monitoring"
}

variable "kms_key_arn" {
  description = "KMS key encrypting the images."
  type        = string
  default     = null
}

variable "keep_images" {
  description = "Number of most recent images kept; older ones are expired."
  type        = number
  default     = 20
}

variable "force_delete" {
  description = "Allow terraform destroy to delete a repository that still holds images."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
