# --- naming and placement ------------------------------------------------------------------------

variable "region" {
  description = "AWS region; null uses AWS_REGION or the profile's region."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "rosetta"
}

variable "environment" {
  description = "Environment name (dev, staging, prod), part of every resource name."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lowercase letters, digits or dashes."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource (cost centre, owner, ...)."
  type        = map(string)
  default     = {}
}

variable "kms_deletion_window_days" {
  description = "Waiting period before a scheduled KMS key deletion takes effect."
  type        = number
  default     = 30
}

# --- lake ------------------------------------------------------------------------------------------

variable "lake_bucket_name" {
  description = "Name of the lake bucket; null derives <name_prefix>-<environment>-lake-<account id>."
  type        = string
  default     = null
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside the bucket (ROSETTA_LAKE_URL = s3://bucket/prefix); \"\" for the root."
  type        = string
  default     = "lake"
}

variable "access_log_bucket_name" {
  description = "Existing bucket for S3 server access logs (e.g. a central log archive); null creates one."
  type        = string
  default     = null
}

variable "landing_transition_days" {
  description = "Days before raw API pages under landing/ move to STANDARD_IA (at least 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.landing_transition_days >= 30
    error_message = "S3 transitions to STANDARD_IA need at least 30 days."
  }
}

variable "landing_expiration_days" {
  description = "Days before raw API pages under landing/ are deleted (the replay window); pages kept no longer than landing_transition_days never move to STANDARD_IA."
  type        = number
  default     = 90
}

variable "run_log_expiration_days" {
  description = "Days before run records under runs/ are deleted: a year of run history, and a margin to compare with the year before."
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
  description = "Days before rejected records under raw/<source>/rejects/ are deleted: they keep records as the sources sent them, people's usernames and free text included, for finding why a record could not be read."
  type        = number
  default     = 90

  validation {
    condition     = var.rejects_expiration_days >= 1
    error_message = "rejects_expiration_days must be at least 1 (S3 expires objects after whole days)."
  }
}

variable "athena_results_expiration_days" {
  description = "Days before Athena's query results under athena-results/ are deleted: they hold whatever an analyst's query returned (a deployment's initiated_by, say)."
  type        = number
  default     = 30

  validation {
    condition     = var.athena_results_expiration_days >= 1
    error_message = "athena_results_expiration_days must be at least 1 (S3 expires objects after whole days)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days to keep overwritten versions of lake objects."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let terraform destroy empty the buckets and the image repository (test environments only)."
  type        = bool
  default     = false
}

# --- image and functions ---------------------------------------------------------------------------

variable "create_ecr_repository" {
  description = "Create the ECR repository here; false to use image_repository_url."
  type        = bool
  default     = true
}

variable "image_repository_url" {
  description = "Existing repository URL holding the image, when create_ecr_repository is false."
  type        = string
  default     = null
}

variable "image_tag" {
  description = "Tag of the function image to deploy (tags are immutable: use the git SHA)."
  type        = string
  default     = null

  validation {
    condition     = var.image_tag != null && can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "Set image_tag to the tag pushed with the image (e.g. the git SHA)."
  }
}

variable "architecture" {
  description = "Instruction set of the image: x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "function_overrides" {
  description = "Per function (ingest_dynatrace, ingest_servicenow, ingest_deploys, ingest_logs, build_aggregates, api): sizing and alarm thresholds that replace the defaults in functions.tf (the DuckDB settings apply to build_aggregates and api, the functions that open it). The build's DuckDB limit (1100 MB) is set for its 4096 MB: with another memory_size, set duckdb_memory_mb too."
  type = map(object({
    memory_size                    = optional(number)
    timeout                        = optional(number)
    ephemeral_storage_mb           = optional(number)
    reserved_concurrent_executions = optional(number)
    duckdb_threads                 = optional(number)
    duckdb_memory_mb               = optional(number)
    max_lag_hours                  = optional(number)
    rejects_threshold              = optional(number)
  }))
  default = {}

  # functions.tf reads the map by its own keys: a misspelt one (build_aggregate) would be dropped without a word.
  validation {
    condition     = alltrue([for key in keys(var.function_overrides) : contains(["ingest_dynatrace", "ingest_servicenow", "ingest_deploys", "ingest_logs", "build_aggregates", "api"], key)])
    error_message = "function_overrides are keyed by function: ingest_dynatrace, ingest_servicenow, ingest_deploys, ingest_logs, build_aggregates or api."
  }
}

variable "extra_environment" {
  description = "Extra ROSETTA_* settings per function key, e.g. { ingest_dynatrace = { ROSETTA_DYNATRACE_ENTITIES_ENABLED = \"true\" } }. No secret value: those go to Secrets Manager (source_secrets)."
  type        = map(map(string))
  default     = {}

  # functions.tf reads the map by its own keys: a misspelt one (ingest_deploy) would be dropped without a word.
  validation {
    condition     = alltrue([for key in keys(var.extra_environment) : contains(["ingest_dynatrace", "ingest_servicenow", "ingest_deploys", "ingest_logs", "build_aggregates", "api"], key)])
    error_message = "extra_environment is keyed by function: ingest_dynatrace, ingest_servicenow, ingest_deploys, ingest_logs, build_aggregates or api."
  }

  # A secret given here would be kept in the Terraform state and the function's configuration, in clear. The code
  # reads setting names in any case, so they are compared in upper case.
  validation {
    condition = alltrue([
      for settings in values(var.extra_environment) : length(setintersection([for name in keys(settings) : upper(name)], [
        "ROSETTA_S3_SECRET_ACCESS_KEY",
        "ROSETTA_DYNATRACE_TOKEN",
        "ROSETTA_SERVICENOW_PASSWORD",
        "ROSETTA_ARGOCD_TOKEN",
        "ROSETTA_GITLAB_TOKEN",
        "ROSETTA_ELASTICSEARCH_PASSWORD",
        "ROSETTA_ELASTICSEARCH_API_KEY",
        "ROSETTA_API_JWT_SECRET",
      ])) == 0
    ])
    error_message = "extra_environment holds no secret value: put the secret in Secrets Manager and name it in source_secrets, which gives the function its ARN."
  }
}

variable "production_environment" {
  description = "The mapping environment that is the estate's production, as its sources name it (prod): ROSETTA_PRODUCTION_ENVIRONMENT of the build and the API, which must agree on it, and of the mapping import (terraform output production_environment)."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$", var.production_environment))
    error_message = "production_environment is a mapping environment: lowercase letters, digits and . _ -, like prod."
  }
}

variable "failed_close_codes" {
  description = "The ServiceNow change close codes that mean a failed change (ROSETTA_FAILED_CLOSE_CODES of the build): unsuccessful, ServiceNow's own, which the list holds, and those the instance added for a failure, like rolled_back. A change closed with another code the instance added is counted apart, out of the change failure rate."
  type        = list(string)
  default     = ["unsuccessful"]

  validation {
    condition     = length(var.failed_close_codes) > 0 && alltrue([for c in var.failed_close_codes : trimspace(c) != "" && !strcontains(c, ",")])
    error_message = "failed_close_codes lists at least one close code, none empty or holding a comma, like [\"unsuccessful\", \"rolled_back\"]."
  }

  validation {
    condition     = contains([for c in var.failed_close_codes : lower(trimspace(c))], "unsuccessful")
    error_message = "failed_close_codes holds unsuccessful, ServiceNow's own code for a failed change, like [\"unsuccessful\", \"rolled_back\"]: without it, a change closed so would not count as failed."
  }
}

variable "environments" {
  description = "The estate's environments (ROSETTA_ENVIRONMENTS of the API and of the mapping import, terraform output environments): when given, a mapping change naming another is refused, a typo (prodution) making an environment no page reads. Empty: any environment is accepted."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.environments : can(regex("^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$", e))])
    error_message = "each environment is a mapping environment: lowercase letters, digits and . _ -, like staging."
  }

  validation {
    condition     = length(var.environments) == 0 || contains(var.environments, var.production_environment)
    error_message = "environments must hold production_environment."
  }
}

variable "log_level" {
  description = "Level of every function's log lines, POWERTOOLS_LOG_LEVEL and Lambda's application_log_level: DEBUG or INFO (Lambda reads the metric lines as INFO, and drops lines below this level)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO"], var.log_level)
    error_message = "log_level is DEBUG or INFO: above INFO, Lambda would drop the metric lines the alarms read."
  }
}

variable "log_retention_days" {
  description = "Days to keep function and API access logs."
  type        = number
  default     = 365
}

variable "vpc_subnet_ids" {
  description = "Subnets for the functions when sources sit on a private network; empty runs them outside a VPC."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups for the functions' network interfaces (with vpc_subnet_ids)."
  type        = list(string)
  default     = []
}

# --- sources ---------------------------------------------------------------------------------------

variable "sources" {
  description = "Non-secret source settings: base URLs and user names (secrets go to Secrets Manager); kibana_url is where the API's logs links point; elasticsearch_environment_field is the log field naming the environment (unset: deployment.environment; service.environment for Elastic Common Schema loggers), read by ingest_logs and the logs links."
  type = object({
    dynatrace_url                   = optional(string)
    servicenow_url                  = optional(string)
    servicenow_user                 = optional(string)
    argocd_url                      = optional(string)
    gitlab_url                      = optional(string)
    elasticsearch_url               = optional(string)
    elasticsearch_user              = optional(string)
    elasticsearch_environment_field = optional(string)
    kibana_url                      = optional(string)
  })
  default = {}

  # A user and password in a URL (which the code accepts for GitLab, ServiceNow and Elasticsearch) would be kept in
  # the Terraform state and in the configuration of every function given the URL, the API's included, in clear.
  validation {
    condition = alltrue([
      for name, value in var.sources : value == null || !can(regex("^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@", value)) if endswith(name, "_url")
    ])
    error_message = "sources URLs carry no user or password: put the user in servicenow_user or elasticsearch_user and the password in Secrets Manager (source_secrets)."
  }

  validation {
    condition     = var.sources.elasticsearch_environment_field == null || can(regex("^[A-Za-z0-9_@-]+([.][A-Za-z0-9_@-]+)*$", var.sources.elasticsearch_environment_field))
    error_message = "sources.elasticsearch_environment_field is a field name of letters, digits and _ - @ joined by dots, like service.environment."
  }
}

variable "source_secrets" {
  description = "Source secrets to add or change, by setting name (lakehouse/ingest/config.py SECRET_FIELDS), with the functions allowed to read each. Merged over local.source_secret_defaults (locals.tf): an entry replaces the default of its name only, e.g. { argocd_token = { functions = [\"ingest_deploys\", \"api\"], description = \"ArgoCD API token\" } } for live mode. A default secret a deployment does not use (elasticsearch_api_key with a user and password) is given functions = []: no function then fetches its empty container."
  type = map(object({
    functions   = list(string)
    description = string
  }))
  default = {}

  # Any other name becomes a ROSETTA_<NAME>_SECRET_ARN no function reads, and the function fails on the setting it lacks.
  validation {
    condition = alltrue([
      for name in keys(var.source_secrets) : contains([
        "dynatrace_token",
        "servicenow_password",
        "argocd_token",
        "gitlab_token",
        "elasticsearch_password",
        "elasticsearch_api_key",
      ], name)
    ])
    error_message = "source_secrets are named by setting: dynatrace_token, servicenow_password, argocd_token, gitlab_token, elasticsearch_password or elasticsearch_api_key."
  }

  # The functions that read source settings; the build reads none.
  validation {
    condition = alltrue(flatten([
      for secret in values(var.source_secrets) : [
        for f in secret.functions : contains(["ingest_dynatrace", "ingest_servicenow", "ingest_deploys", "ingest_logs", "api"], f)
      ]
    ]))
    error_message = "source_secrets functions are among ingest_dynatrace, ingest_servicenow, ingest_deploys, ingest_logs and api, the functions that read source settings."
  }
}

# --- schedules -------------------------------------------------------------------------------------

variable "schedules" {
  description = "EventBridge Scheduler schedules by name, merged over the default ones (locals.tf): an entry replaces the default of its name only, and null switches that default off."
  type = map(object({
    function    = string
    expression  = string
    input       = string
    description = string
  }))
  default = {}
}

variable "schedules_enabled" {
  description = "Turn the schedules on; leave false until every source secret holds a value."
  type        = bool
  default     = false
}

# --- API -------------------------------------------------------------------------------------------

variable "jwt_issuer" {
  description = "OIDC issuer URL whose tokens the API accepts (Backstage's identity provider)."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_issuer != null && startswith(coalesce(var.jwt_issuer, "-"), "https://")
    error_message = "Set jwt_issuer to the https:// issuer URL of the identity provider."
  }
}

variable "jwt_audience" {
  description = "Accepted token audiences (aud claim): the gateway admits a token issued for any of them."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.jwt_audience) > 0
    error_message = "Set at least one jwt_audience."
  }
}

variable "admin_scope" {
  description = "OAuth scope a token needs on /monitoring/admin/* routes."
  type        = string
  default     = "rosetta/admin"
}

variable "cors_allow_origins" {
  description = "Browser origins allowed to call the API (the Backstage URL)."
  type        = list(string)
  default     = []
}

variable "api_throttling_burst_limit" {
  description = "Burst request limit of the API stage."
  type        = number
  default     = 50
}

variable "api_throttling_rate_limit" {
  description = "Steady requests per second of the API stage."
  type        = number
  default     = 20
}

# --- alarms ----------------------------------------------------------------------------------------

variable "alarm_topic_arns" {
  description = "SNS topics notified by every alarm (failed runs, data lag, rejected records, dead letters, API 5xx)."
  type        = list(string)
  default     = []
}

# --- catalog ---------------------------------------------------------------------------------------

variable "glue_database_name" {
  description = "Glue database for Athena; null derives <name_prefix>_<environment>."
  type        = string
  default     = null
}

variable "projection_start_day" {
  description = "First day (YYYY-MM-DD) Athena's tables project partitions from; Athena sees no day before it. Not the first ingested day: a record lies under its own day (a ServiceNow incident under its opening, a CI under its last edit, ArgoCD's and GitLab's history under theirs), years before the first run on tools in use for years; `rosetta-monitoring partitions <dataset>` lists a dataset's days. A query naming no day lists each day of the range."
  type        = string
  default     = "2000-01-01"

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}$", var.projection_start_day))
    error_message = "projection_start_day must be YYYY-MM-DD."
  }
}

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Athena cancels queries of the workgroup scanning more than this many bytes."
  type        = number
  default     = 107374182400
}
