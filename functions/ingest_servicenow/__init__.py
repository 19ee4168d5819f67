"""Ingestion of ServiceNow incidents, changes, problems, task SLAs and CMDB CIs."""
