resource "aws_athena_workgroup" "this" {
  name        = var.database_name
  description = "Queries over the Rosetta Monitoring lake; results encrypted with the lake key."
  state       = "ENABLED"
  tags        = var.tags

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = "s3://${var.bucket_name}/${var.athena_results_prefix}"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}

# What an analyst role needs to query the lake through this workgroup (attach it to their role or group).
data "aws_iam_policy_document" "analyst" {
  # The console lists the workgroups to pick this one (a query would otherwise run in `primary`, not opened here)
  # and the data sources; neither list has resource-level permissions.
  statement {
    sid       = "ListWorkgroupsAndCatalogs"
    actions   = ["athena:ListWorkGroups", "athena:ListDataCatalogs"]
    resources = ["*"]
  }

  statement {
    sid = "UseWorkgroup"
    actions = [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:GetQueryResultsStream", # the JDBC/ODBC drivers stream results
      "athena:StopQueryExecution",
      "athena:GetWorkGroup",
      "athena:ListQueryExecutions", # the console's recent queries
      "athena:BatchGetQueryExecution",
    ]
    resources = [aws_athena_workgroup.this.arn]
  }

  # The console's database and table lists and the drivers' metadata calls go through Athena's catalog actions.
  statement {
    sid = "BrowseCatalog"
    actions = [
      "athena:GetDataCatalog",
      "athena:ListDatabases",
      "athena:GetDatabase",
      "athena:ListTableMetadata",
      "athena:GetTableMetadata",
    ]
    resources = [
      "arn:${data.aws_partition.current.partition}:athena:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:datacatalog/AwsDataCatalog",
    ]
  }

  # Listing the databases needs every database the list may return; only names, no data, come with it.
  statement {
    sid     = "ListDatabases"
    actions = ["glue:GetDatabases"]
    resources = [
      "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:catalog",
      "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:database/*",
    ]
  }

  statement {
    sid     = "ReadCatalog"
    actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"]
    resources = [
      "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:catalog",
      aws_glue_catalog_database.this.arn,
      "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:table/${aws_glue_catalog_database.this.name}/*",
    ]
  }

  statement {
    sid     = "ReadRawAndMart"
    actions = ["s3:GetObject"]
    resources = [
      "${var.bucket_arn}/${var.lake_root}raw/*",
      "${var.bucket_arn}/${var.lake_root}mart/*",
    ]
  }

  statement {
    sid       = "ListRawAndMart"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.lake_root}raw/*", "${var.lake_root}mart/*", "${var.athena_results_prefix}*"]
    }
  }

  statement {
    sid       = "LocateBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [var.bucket_arn]
  }

  statement {
    sid       = "QueryResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${var.bucket_arn}/${var.athena_results_prefix}*"]
  }

  statement {
    sid       = "LakeKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_policy" "analyst" {
  name        = "${var.database_name}-athena-analyst"
  description = "Query the Rosetta Monitoring lake with Athena (workgroup ${aws_athena_workgroup.this.name})."
  policy      = data.aws_iam_policy_document.analyst.json
  tags        = var.tags
}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}
