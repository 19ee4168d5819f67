output "secret_arns" {
  description = "Secret ARNs by key."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.arn }
}

output "secret_names" {
  description = "Secret names by key (for aws secretsmanager put-secret-value --secret-id)."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.name }
}
