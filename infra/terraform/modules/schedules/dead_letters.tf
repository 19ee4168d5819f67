# One queue for every event that never ran: undelivered schedules, and (passed to the functions)
# asynchronous invocations that failed all their retries.
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name}-dead-letters"
  message_retention_seconds = var.dead_letter_retention_seconds
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-dead-letters"
  alarm_description   = "${aws_sqs_queue.dead_letters.name} holds events: a schedule the scheduler could not deliver, or an asynchronous invocation (a scheduled run, an API batch trigger) that failed and failed again on Lambda's retry, whose function's failed-runs alarm fires too (act on that one). It stays in ALARM until the messages are deleted: inspect, then purge or redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letters.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
