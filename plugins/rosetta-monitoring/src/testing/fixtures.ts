// Answers recorded from the demo estate's API (seed 42, 4 applications, 10 days).
export { default as summaryProfiles } from '../__fixtures__/summary-profiles.json';
export { default as summaryBillingApi } from '../__fixtures__/summary-billing-api.json';
export { default as incidentsProfiles } from '../__fixtures__/incidents-profiles.json';
export { default as changesUpcomingProfiles } from '../__fixtures__/changes-upcoming-profiles.json';
export { default as changesRecentProfiles } from '../__fixtures__/changes-recent-profiles.json';
export { default as deploymentsLiveProfiles } from '../__fixtures__/deployments-live-profiles.json';
export { default as deploymentsHistoryProfiles } from '../__fixtures__/deployments-history-profiles.json';
export { default as logsProfiles } from '../__fixtures__/logs-profiles.json';
export { default as timeseriesProfilesP95 } from '../__fixtures__/timeseries-profiles-p95.json';
export { default as overview } from '../__fixtures__/overview.json';
export { default as doraGroup } from '../__fixtures__/dora-group.json';
export { default as doraApp } from '../__fixtures__/dora-app.json';
export { default as riskTop } from '../__fixtures__/risk-top.json';
