"""Ingestion of Dynatrace metrics, problems and entities."""
