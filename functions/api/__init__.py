"""The monitoring REST API (FastAPI behind Mangum)."""
