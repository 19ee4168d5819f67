data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  region = data.aws_region.current.region
  # Writers read back what they write (day partitions are merged, watermarks compared).
  readable_prefixes = distinct(concat(var.read_prefixes, var.write_prefixes))
  readable_objects  = [for p in local.readable_prefixes : "${var.bucket_arn}/${var.lake_root}${p}*"]
  writable_objects  = [for p in var.write_prefixes : "${var.bucket_arn}/${var.lake_root}${p}*"]
  deletable_objects = [for p in var.delete_prefixes : "${var.bucket_arn}/${var.lake_root}${p}*"]
  # Every prefix it reads, not only those it lists: S3 answers a read of a key not there yet (a first run's watermark)
  # 404 only to a role that may list that key, and 403 otherwise, which the code takes for a refusal.
  listable_prefixes = [for p in local.readable_prefixes : "${var.lake_root}${p}*"]
  optional_statements = {
    head    = var.heads_bucket
    secrets = length(var.secret_arns) > 0
    invoke  = length(var.invoke_function_arns) > 0
    write   = length(var.write_prefixes) > 0
    delete  = length(var.delete_prefixes) > 0
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "ReadLakePrefixes"
    actions   = ["s3:GetObject"]
    resources = local.readable_objects
  }

  statement {
    sid       = "ListLakePrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.listable_prefixes
    }
  }

  # HeadBucket (the start-up reachability check) is authorised as ListBucket without a prefix, which IAM cannot tell
  # from a listing of the whole bucket: only a function that checks the bucket gets it.
  dynamic "statement" {
    for_each = local.optional_statements.head ? [var.bucket_arn] : []

    content {
      sid       = "HeadLakeBucket"
      actions   = ["s3:ListBucket"]
      resources = [statement.value]

      condition {
        test     = "Null"
        variable = "s3:prefix"
        values   = ["true"]
      }
    }
  }

  statement {
    sid       = "DecryptLakeObjects"
    actions   = ["kms:Decrypt"]
    resources = [var.lake_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = local.optional_statements.write ? [local.writable_objects] : []

    content {
      sid       = "WriteLakePrefixes"
      actions   = ["s3:PutObject"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = local.optional_statements.delete ? [local.deletable_objects] : []

    content {
      sid       = "DeleteLakePrefixes"
      actions   = ["s3:DeleteObject"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = local.optional_statements.write ? [var.lake_kms_key_arn] : []

    content {
      sid       = "EncryptLakeObjects"
      actions   = ["kms:GenerateDataKey"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.optional_statements.secrets ? [var.secret_arns] : []

    content {
      sid       = "ReadOwnSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = local.optional_statements.secrets ? [var.secrets_kms_key_arn] : []

    content {
      sid       = "DecryptOwnSecrets"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.optional_statements.invoke ? [var.invoke_function_arns] : []

    content {
      sid       = "TriggerBatchFunctions"
      actions   = ["lambda:InvokeFunction"]
      resources = statement.value
    }
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [var.dead_letter_queue_arn]
  }

  # X-Ray has no resource-level permissions for these two actions.
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-runtime"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_iam_role_policy_attachment" "vpc" {
  count      = local.in_vpc ? 1 : 0
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}
