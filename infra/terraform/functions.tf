# Every function runs the same image; image_config.command picks the handler.
locals {
  function_specs = {
    ingest_dynatrace = {
      handler     = "functions.ingest_dynatrace.handler.handler"
      description = "Dynatrace metrics, problems and entities into raw/dynatrace"
    }
    ingest_servicenow = {
      handler     = "functions.ingest_servicenow.handler.handler"
      description = "ServiceNow incidents, changes, problems, task SLAs and CIs into raw/servicenow"
    }
    ingest_deploys = {
      handler     = "functions.ingest_deploys.handler.handler"
      description = "ArgoCD and GitLab deployments into raw/argocd, raw/gitlab and raw/deploys"
    }
    ingest_logs = {
      handler     = "functions.ingest_logs.handler.handler"
      description = "Elasticsearch log counts into raw/elasticsearch"
    }
    build_aggregates = {
      handler              = "functions.build_aggregates.handler.handler"
      description          = "DuckDB SQL over raw/ and ref/ into mart/"
      memory_size          = 4096
      timeout              = 900
      ephemeral_storage_mb = 4096
      opens_duckdb         = true
      # Its handler checks the bucket before the build (HeadBucket): the one function that may list it unprefixed.
      heads_bucket   = true
      duckdb_threads = 2
      # 4 GB buys two vCPUs; DuckDB gets 1.1 GB, which keeps the build's peak near 1.6 GB at 1,000 applications, as
      # fast as at 1.4 GB, which reached 1.98 GB (bench/RESULTS.md, where bench/bench_build.py measures this limit).
      duckdb_memory_mb = 1100
    }
    api = {
      handler                        = "functions.api.main.handler"
      description                    = "Monitoring API for Backstage (FastAPI behind Mangum)"
      memory_size                    = 2048
      timeout                        = 30
      reserved_concurrent_executions = 20
      opens_duckdb                   = true
      duckdb_threads                 = 2
      # /tmp holds the serving copy of the mart: a build's new copy loads while the previous one serves, and each
      # keeps the hourly months requests asked for. Two copies of the measured mart (652 MB, bench/RESULTS.md) and
      # DuckDB's spill (up to its 1228 MB): 2532 MB.
      ephemeral_storage_mb = 3072
    }
  }

  function_defaults = {
    memory_size                    = 1024
    timeout                        = 900
    ephemeral_storage_mb           = 1024
    reserved_concurrent_executions = 1
    # The ingestions never open DuckDB (they write Parquet with pyarrow): its settings would be read for nothing.
    opens_duckdb     = false
    heads_bucket     = false
    duckdb_threads   = 1
    duckdb_memory_mb = null
    max_lag_hours    = 3
    # Records an ingestion may set aside in an hour before its rejects alarm fires (ingest_* only).
    rejects_threshold = 1
  }

  # Caller overrides, without the attributes left unset.
  function_overrides = {
    for key in keys(local.function_specs) : key => {
      for attribute, value in try(var.function_overrides[key], {}) : attribute => value if value != null
    }
  }

  functions = {
    for key, spec in local.function_specs : key => merge(local.function_defaults, spec, local.function_overrides[key])
  }

  function_names = { for key in keys(local.function_specs) : key => "${local.name}-${replace(key, "_", "-")}" }
  # Built from names, not module outputs: the API's policy names its siblings without a dependency cycle.
  function_arns = {
    for key, name in local.function_names : key => "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${name}"
  }

  # Lake sources each ingestion writes (the `source` of its datasets in lakehouse/schemas.py), the name the API's
  # batch trigger gives it (`ingest:<source_name>`; its metrics carry the `service` dimension alone), and what it
  # deletes: the deployment events replace their recent days, and remove a day left without events
  # (Lake.replace_days).
  ingest = {
    ingest_dynatrace  = { lake_sources = ["dynatrace"], source_name = "dynatrace", deletes = [] }
    ingest_servicenow = { lake_sources = ["servicenow"], source_name = "servicenow", deletes = [] }
    ingest_deploys    = { lake_sources = ["argocd", "gitlab", "deploys"], source_name = "deploys", deletes = ["raw/deploys/deployment_events/"] }
    ingest_logs       = { lake_sources = ["elasticsearch"], source_name = "logs", deletes = [] }
  }

  # Prefixes relative to the lake root; write implies read (merges read the object they replace).
  # An ingestion reads the build's lease too: while `forget` holds it, the run writes nothing.
  lake_access = merge(
    {
      for key, spec in local.ingest : key => {
        read   = ["ref/", "state/build/lease.json"]
        write  = concat(flatten([for s in spec.lake_sources : ["landing/${s}/", "raw/${s}/", "state/${s}/"]]), ["runs/"])
        delete = spec.deletes
      }
    },
    {
      # The build reads no state but its own (state/build/, which it writes), when the lake first read deployments,
      # incidents and change requests (the DORA periods count from there, the API's reports leave the days before
      # unknown), how far it read ServiceNow's and the deployments' sources (ArgoCD's history, GitLab's deployments:
      # the days after are unknown) and Dynatrace's service metrics (for the API's freshness), and from when to when it read log counts (their first read and watermark, and the hours read of each
      # index pattern: an hour read without a line counts 0), and deletes the mart objects a table no longer has (a month left without
      # rows).
      build_aggregates = { read = ["raw/", "ref/", "runs/", "state/deploys/read_from/", "state/servicenow/read_from/", "state/servicenow/incidents.json", "state/servicenow/changes.json", "state/servicenow/task_slas.json", "state/argocd/deployment_history.json", "state/gitlab/deployments.json", "state/deploys/deployment_events.json", "state/dynatrace/service_metrics_hourly.json", "state/elasticsearch/read_from/log_counts_hourly.json", "state/elasticsearch/log_counts_hourly.json", "state/elasticsearch/hours_read/log_counts_hourly.json"], write = ["mart/", "runs/", "state/build/"], delete = ["mart/"] }
      # The API reads the build's state record (which build it serves), its lease (whether a build is putting its
      # tables) and the sources' watermarks and first reads (admin config/sources): not the build's copies of the raw
      # event datasets (state/build/history/), raw/ being closed to it.
      api = {
        read = [
          "mart/", "ref/", "runs/", "state/build/aggregates.json", "state/build/lease.json",
          "state/dynatrace/", "state/servicenow/", "state/argocd/", "state/gitlab/", "state/elasticsearch/",
        ]
        write  = ["ref/mappings/"]
        delete = []
      }
    },
  )

  invokes = {
    api = [for key in keys(local.function_specs) : local.function_arns[key] if key != "api"]
  }

  secrets_by_function = {
    for key in keys(local.function_specs) : key => [for name, s in local.source_secrets : name if contains(s.functions, key)]
  }
}

# --- environment ---------------------------------------------------------------------------------

locals {
  common_environment = {
    ROSETTA_LAKE_URL             = module.lake.lake_url
    ROSETTA_S3_REGION            = local.region
    POWERTOOLS_METRICS_NAMESPACE = "RosettaMonitoring"
  }

  source_environment = {
    ingest_dynatrace = {
      ROSETTA_DYNATRACE_URL = var.sources.dynatrace_url
    }
    ingest_servicenow = {
      ROSETTA_SERVICENOW_URL  = var.sources.servicenow_url
      ROSETTA_SERVICENOW_USER = var.sources.servicenow_user
    }
    ingest_deploys = {
      ROSETTA_ARGOCD_URL = var.sources.argocd_url
      ROSETTA_GITLAB_URL = var.sources.gitlab_url
    }
    ingest_logs = {
      ROSETTA_ELASTICSEARCH_URL               = var.sources.elasticsearch_url
      ROSETTA_ELASTICSEARCH_USER              = var.sources.elasticsearch_user
      ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD = var.sources.elasticsearch_environment_field
    }
    # The build and the API must agree on the estate's production environment: health and top risks are judged there,
    # and the API reads it when a request names none. The build alone reads which close codes fail a change.
    build_aggregates = {
      ROSETTA_PRODUCTION_ENVIRONMENT = var.production_environment
      ROSETTA_FAILED_CLOSE_CODES     = join(",", var.failed_close_codes)
    }
    # Live mode reads the ArgoCD and GitLab URLs (their tokens: add "api" to source_secrets); logs/link, Kibana's;
    # the listed incidents, changes and ArgoCD deployments link to ServiceNow's and ArgoCD's (no credential needed);
    # admin/config/sources, every source's (it probes those whose credentials the API may read). The logs links
    # filter on the environment field the log counts are read from. The gateway verifies the token (issuer, audience,
    # admin scope): the function takes the claims it admitted and checks no token itself.
    api = {
      ROSETTA_API_TRUST_GATEWAY_AUTHORIZER    = "true"
      ROSETTA_API_ADMIN_SCOPE                 = var.admin_scope
      ROSETTA_API_TRIGGER_MODE                = "lambda"
      ROSETTA_PRODUCTION_ENVIRONMENT          = var.production_environment
      ROSETTA_ENVIRONMENTS                    = jsonencode(var.environments)
      ROSETTA_ARGOCD_URL                      = var.sources.argocd_url
      ROSETTA_GITLAB_URL                      = var.sources.gitlab_url
      ROSETTA_API_KIBANA_URL                  = var.sources.kibana_url
      ROSETTA_DYNATRACE_URL                   = var.sources.dynatrace_url
      ROSETTA_SERVICENOW_URL                  = var.sources.servicenow_url
      ROSETTA_SERVICENOW_USER                 = var.sources.servicenow_user
      ROSETTA_ELASTICSEARCH_URL               = var.sources.elasticsearch_url
      ROSETTA_ELASTICSEARCH_USER              = var.sources.elasticsearch_user
      ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD = var.sources.elasticsearch_environment_field
      ROSETTA_API_TRIGGER_FUNCTIONS = jsonencode(merge(
        { build = local.function_names.build_aggregates },
        { for key, spec in local.ingest : "ingest:${spec.source_name}" => local.function_names[key] },
      ))
    }
  }

  secret_environment = {
    for key, names in local.secrets_by_function : key => {
      for name in names : "ROSETTA_${upper(name)}_SECRET_ARN" => module.secrets.secret_arns[name]
    }
  }

  # Only for the functions that open DuckDB (the build and the API).
  duckdb_environment = {
    for key, f in local.functions : key => f.opens_duckdb ? tomap({
      ROSETTA_DUCKDB_TEMP_DIRECTORY = "/tmp/duckdb"
      ROSETTA_DUCKDB_THREADS        = tostring(f.duckdb_threads)
      # Unless set, DuckDB gets 60 % of the function's memory; Python, Arrow buffers and the runtime need the rest.
      ROSETTA_DUCKDB_MEMORY_LIMIT = "${coalesce(f.duckdb_memory_mb, floor(f.memory_size * 0.6))}MB"
    }) : tomap({})
  }

  function_environment = {
    for key in keys(local.function_specs) : key => {
      for name, value in merge(
        local.common_environment,
        local.duckdb_environment[key],
        local.source_environment[key],
        local.secret_environment[key],
        try(var.extra_environment[key], {}),
      ) : name => value if value != null
    }
  }
}

# --- alarms --------------------------------------------------------------------------------------

locals {
  # Ingestion emits LagSeconds (now minus the end of the window it loaded) after every run that loaded every dataset
  # up to now (scheduled, or a backfill; not a run by hand of some datasets or of a given window): a failed run
  # reports none, so a source down for max_lag_hours raises this alarm as well as the failed-runs one. A run fails
  # when any one of its datasets does: one dataset failing every run raises it too, the others being fresh.
  ingest_freshness = {
    for key, spec in local.ingest : key => {
      metric_name         = "LagSeconds"
      namespace           = "RosettaMonitoring"
      dimensions          = { service = key }
      statistic           = "Minimum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = local.functions[key].max_lag_hours * 3600
      period_seconds      = 3600
      evaluation_periods  = local.functions[key].max_lag_hours
      description         = "${key}: for ${local.functions[key].max_lag_hours} h no run loaded every dataset it reads (raw/${join("/, raw/", spec.lake_sources)}/) up to less than ${local.functions[key].max_lag_hours} h ago. LagSeconds (service = ${key}) comes only from a run whose datasets all loaded: one dataset failing each run keeps this in ALARM while the others stay fresh (the failed-runs alarm fires too; the runs' ingestion finished lines and the run log name the dataset)."
    }
  }

  # The build emits TablesBuilt only after a successful build.
  build_freshness = {
    build_aggregates = {
      metric_name         = "TablesBuilt"
      namespace           = "RosettaMonitoring"
      dimensions          = { service = "build_aggregates" }
      statistic           = "SampleCount"
      comparison_operator = "LessThanThreshold"
      threshold           = 1
      period_seconds      = 3600
      evaluation_periods  = local.functions.build_aggregates.max_lag_hours
      description         = "build_aggregates: no build succeeded in ${local.functions.build_aggregates.max_lag_hours} h (TablesBuilt, service = build_aggregates, comes only from a successful build, hourly or daily); mart/ is going stale."
    }
  }

  # Ingestion emits Rejects (the records it set aside in <source>/rejects) after every invocation whose runs ended, a
  # run with failed datasets included (one stopped before its timeout only when it had set records aside; the
  # failed-run alarm has the stop):
  # figures silently shrink when a source changes its records' shape, or the mapping names what the source no longer
  # serves. Summed over an hour, the interval of the slowest schedules.
  rejects_alarms = {
    for key in keys(local.ingest) : key => {
      metric_name    = "Rejects"
      namespace      = "RosettaMonitoring"
      dimensions     = { service = key }
      threshold      = local.functions[key].rejects_threshold
      period_seconds = 3600
      description    = "${key}: ${local.functions[key].rejects_threshold} or more source records set aside as rejects in an hour (a contract change at the source, or a mapping naming what it no longer serves); the runs' ingestion finished lines and raw/<source>/rejects/ say why."
    }
  }

  # Only a function a schedule runs reports freshness: one whose default schedule is set to null (ingest_logs on a
  # platform without Elasticsearch) never will, and its alarm would stay in ALARM for good. The same functions keep
  # their failed-runs alarm in ALARM until a later run succeeds: for one no schedule runs, none might ever come.
  # With the schedules off (schedules_enabled = false: the deployment before they are turned on, or a person's data
  # being removed) nothing runs and every data-lag alarm goes to ALARM: its actions follow the schedules, so it
  # notifies nobody until they run again, and the first run that reports turns it OK.
  scheduled_functions = toset([for s in values(local.schedules) : s.function])
  freshness_alarms = {
    for key, alarm in merge(local.ingest_freshness, local.build_freshness) :
    key => merge(alarm, { actions_enabled = var.schedules_enabled }) if contains(local.scheduled_functions, key)
  }
}
