# A scheduled run that fails raises (it never returns an error payload), so Errors counts failed runs.
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-failed-runs"
  alarm_description   = "${var.name} raised an error (a failed run or request); see its log group."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = var.error_alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "freshness" {
  count = var.freshness_alarm == null ? 0 : 1

  alarm_name          = "${var.name}-data-lag"
  alarm_description   = var.freshness_alarm.description
  namespace           = var.freshness_alarm.namespace
  metric_name         = var.freshness_alarm.metric_name
  dimensions          = var.freshness_alarm.dimensions
  statistic           = var.freshness_alarm.statistic
  period              = var.freshness_alarm.period_seconds
  evaluation_periods  = var.freshness_alarm.evaluation_periods
  threshold           = var.freshness_alarm.threshold
  comparison_operator = var.freshness_alarm.comparison_operator
  # No data means no run got far enough to report: the lake is going stale.
  treat_missing_data = "breaching"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = var.tags
}
