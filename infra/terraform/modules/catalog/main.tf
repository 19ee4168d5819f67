locals {
  location = "s3://${var.bucket_name}/${var.lake_root}"
  # generated_raw_tables and generated_mart_tables come from tables.generated.tf.json.
  tables = merge(
    { for k, t in local.generated_raw_tables : "raw__${k}" => t },
    { for k, t in local.generated_mart_tables : "mart__${k}" => t },
  )
  projection_start = {
    DAYS   = var.projection_start_day
    MONTHS = substr(var.projection_start_day, 0, 7)
  }
  # Athena partition projection per partitioned table: day=YYYY-MM-DD (raw) or month=YYYY-MM (mart tables stored by month).
  projection = {
    for key, t in local.tables : key => t.partition_key == null ? tomap({}) : tomap({
      "projection.enabled"                          = "true"
      "projection.${t.partition_key}.type"          = "date"
      "projection.${t.partition_key}.format"        = t.partition_format
      "projection.${t.partition_key}.range"         = "${local.projection_start[t.partition_unit]},NOW"
      "projection.${t.partition_key}.interval"      = "1"
      "projection.${t.partition_key}.interval.unit" = t.partition_unit
      "storage.location.template"                   = "${local.location}${t.prefix}${t.partition_key}=$${${t.partition_key}}/"
    })
  }
  parquet = {
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    serde         = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
  }
}

resource "aws_glue_catalog_database" "this" {
  name        = var.database_name
  description = "Rosetta Monitoring lake: raw_* (typed source data, partitioned by day) and mv_* (aggregates)."
  tags        = var.tags
}

# Partitions are projected (no crawler, no MSCK REPAIR): the day/month keys are dense and known in advance.
resource "aws_glue_catalog_table" "this" {
  for_each = local.tables

  database_name = aws_glue_catalog_database.this.name
  name          = each.value.name
  description   = each.value.description
  table_type    = "EXTERNAL_TABLE"

  parameters = merge(
    {
      EXTERNAL       = "TRUE"
      classification = "parquet"
    },
    local.projection[each.key],
  )

  dynamic "partition_keys" {
    for_each = each.value.partition_key == null ? [] : [each.value.partition_key]

    content {
      name = partition_keys.value
      type = "string"
    }
  }

  storage_descriptor {
    location      = "${local.location}${each.value.prefix}"
    input_format  = local.parquet.input_format
    output_format = local.parquet.output_format

    ser_de_info {
      serialization_library = local.parquet.serde
    }

    dynamic "columns" {
      for_each = each.value.columns

      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}
