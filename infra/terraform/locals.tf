locals {
  name       = "${var.name_prefix}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  tags = merge(
    {
      Project     = "rosetta-monitoring"
      Environment = var.environment
      ManagedBy   = "terraform"
    },
    var.tags,
  )

  lake_bucket_name = coalesce(var.lake_bucket_name, "${local.name}-lake-${local.account_id}")
  lake_root        = trim(var.lake_prefix, "/") == "" ? "" : "${trim(var.lake_prefix, "/")}/"
  glue_database    = coalesce(var.glue_database_name, replace(local.name, "-", "_"))

  image_repository_url = var.create_ecr_repository ? module.registry[0].repository_url : var.image_repository_url
  image_uri            = "${local.image_repository_url}:${var.image_tag}"

  # One key per concern, so a grant on one never opens another.
  kms_keys = {
    lake    = { description = "Rosetta lake objects and Athena results", allow_cloudwatch_logs = false }
    logs    = { description = "Rosetta function and API logs", allow_cloudwatch_logs = true }
    secrets = { description = "Rosetta source credentials", allow_cloudwatch_logs = false }
    images  = { description = "Rosetta function images", allow_cloudwatch_logs = false }
  }
}

# One Secrets Manager container per source credential. The source_secrets variable is merged over these, so a
# tfvars that names one secret (to let the API read it) keeps the others.
locals {
  source_secret_defaults = {
    dynatrace_token = {
      functions   = ["ingest_dynatrace"]
      description = "Dynatrace API token (metrics.read, problems.read, entities.read)"
    }
    servicenow_password = {
      functions   = ["ingest_servicenow"]
      description = "Password of the ServiceNow integration user (read on incident, change_request, problem, task_sla, cmdb_ci)"
    }
    argocd_token = {
      functions   = ["ingest_deploys"]
      description = "ArgoCD API token of a read-only account"
    }
    gitlab_token = {
      functions   = ["ingest_deploys"]
      description = "GitLab token with read_api"
    }
    elasticsearch_api_key = {
      functions   = ["ingest_logs"]
      description = "Elasticsearch API key allowed to search the log index patterns"
    }
  }

  source_secrets = merge(local.source_secret_defaults, var.source_secrets)
}
