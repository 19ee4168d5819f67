output "schedule_group_name" {
  description = "Schedule group holding every schedule."
  value       = aws_scheduler_schedule_group.this.name
}

output "schedule_names" {
  description = "Names of the schedules."
  value       = [for s in aws_scheduler_schedule.this : s.name]
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letters.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letters.url
}
