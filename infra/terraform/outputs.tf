output "api_url" {
  description = "Base URL of the HTTP API; Backstage calls <api_url>/monitoring/..."
  value       = module.api.api_url
}

output "lake_bucket_name" {
  description = "Name of the lake bucket."
  value       = module.lake.bucket_name
}

output "lake_url" {
  description = "ROSETTA_LAKE_URL of this deployment (for the CLI and DuckDB)."
  value       = module.lake.lake_url
}

output "production_environment" {
  description = "ROSETTA_PRODUCTION_ENVIRONMENT of the build and the API; give the mapping import the same."
  value       = var.production_environment
}

output "environments" {
  description = "ROSETTA_ENVIRONMENTS of the API, a JSON list; give the mapping import the same."
  value       = jsonencode(var.environments)
}

output "function_names" {
  description = "Lambda function names by key."
  value       = { for key, f in module.functions : key => f.function_name }
}

output "image_repository_url" {
  description = "Repository to push the function image to."
  value       = local.image_repository_url
}

output "secret_names" {
  description = "Secrets to fill with aws secretsmanager put-secret-value, by setting."
  value       = module.secrets.secret_names
}

output "schedule_group_name" {
  description = "EventBridge Scheduler group holding the ingestion and build schedules."
  value       = module.schedules.schedule_group_name
}

output "dead_letter_queue_url" {
  description = "Queue of invocations that never ran or failed every retry."
  value       = module.schedules.dead_letter_queue_url
}

output "glue_database_name" {
  description = "Glue database with the raw_* and mv_* tables."
  value       = module.catalog.database_name
}

output "athena_workgroup" {
  description = "Athena workgroup for analysts."
  value       = module.catalog.athena_workgroup
}

output "athena_analyst_policy_arn" {
  description = "IAM policy to attach to analyst roles for Athena over raw/ and mart/."
  value       = module.catalog.analyst_policy_arn
}
