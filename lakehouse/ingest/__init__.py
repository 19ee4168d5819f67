"""Ingestion shared by every source: HTTP client, paginators, run orchestration, settings and the CLI."""
