"""Ingestion of deployments from ArgoCD and GitLab."""
