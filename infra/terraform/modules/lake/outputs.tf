output "bucket_name" {
  description = "Name of the lake bucket."
  value       = aws_s3_bucket.lake.id
}

output "bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.lake.arn
}

output "lake_url" {
  description = "ROSETTA_LAKE_URL for this lake: s3://bucket/prefix."
  value       = trimsuffix("s3://${aws_s3_bucket.lake.id}/${var.lake_root}", "/")
}

output "access_log_bucket_name" {
  description = "Bucket receiving the lake's server access logs."
  value       = local.log_bucket_name
}
