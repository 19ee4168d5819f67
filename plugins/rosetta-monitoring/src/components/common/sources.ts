/**
 * The lake's datasets a widget's figures rest on, as the API names them in `freshness.sources`: a widget warns when
 * one of its own falls behind (ServiceNow down while Dynatrace keeps up), and says nothing of the others. The DORA
 * widgets declare none: each row's cells say how far its own period's sources were read (DoraLevels).
 */
export const SIGNAL_SOURCES = ['dynatrace/service_metrics_hourly'] as const;
export const INCIDENT_SOURCES = ['servicenow/incidents', 'servicenow/task_slas'] as const;
export const CHANGE_SOURCES = ['servicenow/changes'] as const;
export const DEPLOYMENT_SOURCES = ['deploys/deployment_events'] as const;
/** Health and risk weigh SLOs, open incidents, failed changes and deployments. */
export const HEALTH_SOURCES = [
  ...SIGNAL_SOURCES,
  'servicenow/incidents',
  ...CHANGE_SOURCES,
  ...DEPLOYMENT_SOURCES,
] as const;

/** What a widget's notice calls each dataset. */
export const SOURCE_LABELS: Record<string, string> = {
  'dynatrace/service_metrics_hourly': "Dynatrace's service metrics",
  'elasticsearch/log_counts_hourly': "Elasticsearch's log counts",
  'servicenow/incidents': "ServiceNow's incidents",
  'servicenow/task_slas': "ServiceNow's task SLAs",
  'servicenow/changes': "ServiceNow's change requests",
  'deploys/deployment_events': 'deployments (ArgoCD, GitLab)',
};
