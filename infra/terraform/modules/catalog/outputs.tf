output "database_name" {
  description = "Glue database with the lake's tables."
  value       = aws_glue_catalog_database.this.name
}

output "table_names" {
  description = "Glue tables, raw_* and mv_*."
  value       = sort([for t in aws_glue_catalog_table.this : t.name])
}

output "athena_workgroup" {
  description = "Athena workgroup to query the lake with."
  value       = aws_athena_workgroup.this.name
}

output "analyst_policy_arn" {
  description = "IAM policy granting Athena access to raw/ and mart/."
  value       = aws_iam_policy.analyst.arn
}
