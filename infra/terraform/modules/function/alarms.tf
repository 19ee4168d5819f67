# A scheduled run that fails raises (it never returns an error payload), so Errors counts failed runs.
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-failed-runs"
  alarm_description   = var.scheduled ? "${var.name}: an invocation ended in an error (Lambda Errors): a run that failed (for an ingestion, any one of its datasets), could not start, or was refused its event; the alarm stays until a later run succeeds. Its log group's last error and the run log say which." : "${var.name} raised an error (a failed run or request); see its log group."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = var.error_alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  # Lambda publishes Errors = 0 for a period with invocations and none failed, and nothing for a period without any.
  # Between two scheduled runs no data keeps the state, or a failed run's ALARM turned OK one period later while the
  # source still failed: it stays until a run succeeds in a later period (a retry that succeeded within the failed
  # run's period clears it at the next run). A request's error is that request's: over once its period passes.
  treat_missing_data = var.scheduled ? "ignore" : "notBreaching"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = var.tags
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
  # No data means no run got far enough to report: the lake is going stale. With no schedule on, nothing runs to
  # report, and the alarm notifies nobody.
  treat_missing_data = "breaching"
  actions_enabled    = var.freshness_alarm.actions_enabled
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = var.tags
}

resource "aws_cloudwatch_metric_alarm" "rejects" {
  count = var.rejects_alarm == null ? 0 : 1

  alarm_name          = "${var.name}-rejects"
  alarm_description   = var.rejects_alarm.description
  namespace           = var.rejects_alarm.namespace
  metric_name         = var.rejects_alarm.metric_name
  dimensions          = var.rejects_alarm.dimensions
  statistic           = "Sum"
  period              = var.rejects_alarm.period_seconds
  evaluation_periods  = 1
  threshold           = var.rejects_alarm.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  # No data means no run reported between two runs (or none ran: the failed-runs and data-lag alarms say so): the
  # state stays what the last report made it, so rejects that recur every run keep it in ALARM until a run has none.
  treat_missing_data = "ignore"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = var.tags
}
