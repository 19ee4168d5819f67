"""Shared library of Rosetta Monitoring: settings, lake storage, DuckDB sessions, schemas, mappings, run log."""
