"""Source simulators: one seeded synthetic estate served behind faithful Dynatrace, ServiceNow, Argo CD, GitLab,
Elasticsearch/Kibana and Backstage catalog APIs on loopback."""
