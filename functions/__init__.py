"""Lambda functions: one folder per scheduled job or API, each with a thin handler."""
