module "keys" {
  source   = "./modules/kms"
  for_each = local.kms_keys

  alias                   = "${local.name}-${each.key}"
  description             = each.value.description
  allow_cloudwatch_logs   = each.value.allow_cloudwatch_logs
  deletion_window_in_days = var.kms_deletion_window_days
  tags                    = local.tags
}

module "lake" {
  source = "./modules/lake"

  bucket_name                        = local.lake_bucket_name
  lake_root                          = local.lake_root
  kms_key_arn                        = module.keys["lake"].key_arn
  access_log_bucket_name             = var.access_log_bucket_name
  landing_transition_days            = var.landing_transition_days
  landing_expiration_days            = var.landing_expiration_days
  run_log_expiration_days            = var.run_log_expiration_days
  rejects_expiration_days            = var.rejects_expiration_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  athena_results_prefix              = "athena-results/"
  athena_results_expiration_days     = var.athena_results_expiration_days
  force_destroy                      = var.force_destroy
  tags                               = local.tags
}

module "registry" {
  source = "./modules/registry"
  count  = var.create_ecr_repository ? 1 : 0

  name         = local.name
  kms_key_arn  = module.keys["images"].key_arn
  force_delete = var.force_destroy
  tags         = local.tags
}

module "secrets" {
  source = "./modules/secrets"

  name_prefix = "${var.name_prefix}/${var.environment}/"
  secrets     = { for name, s in local.source_secrets : name => s.description }
  kms_key_arn = module.keys["secrets"].key_arn
  tags        = local.tags
}

module "functions" {
  source   = "./modules/function"
  for_each = local.functions

  name                           = local.function_names[each.key]
  service                        = each.key
  description                    = each.value.description
  image_uri                      = local.image_uri
  command                        = [each.value.handler]
  architecture                   = var.architecture
  memory_size                    = each.value.memory_size
  timeout                        = each.value.timeout
  ephemeral_storage_mb           = each.value.ephemeral_storage_mb
  reserved_concurrent_executions = each.value.reserved_concurrent_executions
  environment                    = local.function_environment[each.key]
  log_level                      = var.log_level

  bucket_arn       = module.lake.bucket_arn
  lake_root        = local.lake_root
  read_prefixes    = local.lake_access[each.key].read
  write_prefixes   = local.lake_access[each.key].write
  delete_prefixes  = local.lake_access[each.key].delete
  heads_bucket     = each.value.heads_bucket
  lake_kms_key_arn = module.keys["lake"].key_arn

  secret_arns          = [for name in local.secrets_by_function[each.key] : module.secrets.secret_arns[name]]
  secrets_kms_key_arn  = module.keys["secrets"].key_arn
  invoke_function_arns = try(local.invokes[each.key], [])

  dead_letter_queue_arn  = module.schedules.dead_letter_queue_arn
  vpc_subnet_ids         = var.vpc_subnet_ids
  vpc_security_group_ids = var.vpc_security_group_ids

  log_retention_days = var.log_retention_days
  logs_kms_key_arn   = module.keys["logs"].key_arn
  alarm_actions      = var.alarm_topic_arns
  scheduled          = contains(local.scheduled_functions, each.key)
  freshness_alarm    = try(local.freshness_alarms[each.key], null)
  rejects_alarm      = try(local.rejects_alarms[each.key], null)
  tags               = local.tags
}

module "schedules" {
  source = "./modules/schedules"

  name    = local.name
  enabled = var.schedules_enabled
  schedules = {
    for name, s in local.schedules : name => {
      function_arn = local.function_arns[s.function]
      expression   = s.expression
      input        = s.input
      description  = s.description
    }
  }
  alarm_actions = var.alarm_topic_arns
  tags          = local.tags
}

module "api" {
  source = "./modules/api"

  name                   = "${local.name}-api"
  function_name          = module.functions["api"].function_name
  function_invoke_arn    = module.functions["api"].invoke_arn
  jwt_issuer             = var.jwt_issuer
  jwt_audience           = var.jwt_audience
  admin_scope            = var.admin_scope
  cors_allow_origins     = var.cors_allow_origins
  throttling_burst_limit = var.api_throttling_burst_limit
  throttling_rate_limit  = var.api_throttling_rate_limit
  log_retention_days     = var.log_retention_days
  logs_kms_key_arn       = module.keys["logs"].key_arn
  alarm_actions          = var.alarm_topic_arns
  tags                   = local.tags
}

module "catalog" {
  source = "./modules/catalog"

  database_name                  = local.glue_database
  bucket_name                    = module.lake.bucket_name
  bucket_arn                     = module.lake.bucket_arn
  lake_root                      = local.lake_root
  kms_key_arn                    = module.keys["lake"].key_arn
  athena_results_prefix          = "athena-results/"
  bytes_scanned_cutoff_per_query = var.athena_bytes_scanned_cutoff_per_query
  projection_start_day           = var.projection_start_day
  tags                           = local.tags
}
