output "api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_url" {
  description = "Base URL of the API, without a trailing slash (routes live under /monitoring)."
  # The $default stage's invoke_url ends in "/": api_url + "/monitoring/..." would ask for //monitoring/...
  value = trimsuffix(aws_apigatewayv2_stage.default.invoke_url, "/")
}

output "access_log_group_name" {
  description = "Log group of the access logs."
  value       = aws_cloudwatch_log_group.access.name
}
