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

# The ingestion and build schedules. The schedules variable is merged over these, so a tfvars that names one (to run
# it more often, or null to switch it off) keeps the others.
locals {
  schedule_defaults = {
    ingest-dynatrace-hourly = {
      function    = "ingest_dynatrace"
      expression  = "cron(5 * * * ? *)"
      input       = "{}"
      description = "Dynatrace golden signals and problems since the watermark (whole hours)"
    }
    ingest-servicenow-quarter-hourly = {
      function    = "ingest_servicenow"
      expression  = "rate(15 minutes)"
      input       = "{}"
      description = "ServiceNow incidents, changes, problems, task SLAs and CIs since the watermark"
    }
    ingest-deploys-quarter-hourly = {
      function    = "ingest_deploys"
      expression  = "rate(15 minutes)"
      input       = "{}"
      description = "ArgoCD and GitLab deployments since the watermark"
    }
    ingest-logs-hourly = {
      function    = "ingest_logs"
      expression  = "cron(10 * * * ? *)"
      input       = "{}"
      description = "Elasticsearch error and warning counts per hour"
    }
    build-hourly = {
      function    = "build_aggregates"
      expression  = "cron(25 * * * ? *)"
      input       = "{\"mode\": \"hourly\"}"
      description = "Aggregates for the days touched since the last build"
    }
    build-daily = {
      function    = "build_aggregates"
      expression  = "cron(40 2 * * ? *)"
      input       = "{\"mode\": \"daily\"}"
      description = "Aggregates including the period tables (SLO, DORA)"
    }
  }

  schedules = { for name, s in merge(local.schedule_defaults, var.schedules) : name => s if s != null }
}
