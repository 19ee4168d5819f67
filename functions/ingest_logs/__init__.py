"""Ingestion of error and exception log counts from Elasticsearch."""
