locals {
  in_vpc = length(var.vpc_subnet_ids) > 0
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  function_name                  = var.name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  package_type                   = "Image"
  image_uri                      = var.image_uri
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  tags                           = var.tags

  image_config {
    command = var.command
  }

  ephemeral_storage {
    size = var.ephemeral_storage_mb
  }

  environment {
    variables = merge(var.environment, { POWERTOOLS_SERVICE_NAME = var.service, POWERTOOLS_LOG_LEVEL = var.log_level })
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dead_letter_config {
    target_arn = var.dead_letter_queue_arn
  }

  # JSON: Lambda's own lines (START, END, REPORT, a timeout, an init error) are JSON objects as the function's lines
  # are, and one Logs Insights query reads them all. Lambda drops an application line below application_log_level, and
  # Powertools takes that level over POWERTOOLS_LOG_LEVEL: both are var.log_level, so that they never disagree.
  # System lines at INFO: the invocations' start, end, report and timeouts.
  logging_config {
    log_format            = "JSON"
    application_log_level = var.log_level
    system_log_level      = "INFO"
    log_group             = aws_cloudwatch_log_group.this.name
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []

    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  # Lambda checks the role as it creates the function: SendMessage on the dead-letter queue, and in a VPC the
  # network interface actions of the attached managed policy.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
    aws_iam_role_policy_attachment.vpc,
  ]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_seconds
}
