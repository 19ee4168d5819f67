import { createApiRef } from '@backstage/core-plugin-api';
import type {
  ChangeList,
  ChangesReport,
  ChangeStatus,
  DeploymentList,
  DoraChoices,
  DoraReport,
  EstateEnvironments,
  GroupBy,
  IncidentList,
  IncidentsReport,
  IncidentStatus,
  KpiWindow,
  LeadTimeList,
  LogsLink,
  Metric,
  MonitoredEntity,
  Overview,
  Period,
  ReportFilter,
  RiskReport,
  SloReport,
  Summary,
  Timeseries,
} from './types';

/** The monitoring API as the plugin's widgets use it. */
export interface MonitoringApi {
  getSummary(entity: MonitoredEntity): Promise<Summary>;
  getTimeseries(entity: MonitoredEntity, metric: Metric, period: Period): Promise<Timeseries>;
  getIncidents(entity: MonitoredEntity, status: IncidentStatus, period: Period): Promise<IncidentList>;
  getChanges(entity: MonitoredEntity, status: ChangeStatus, period: Period): Promise<ChangeList>;
  getDeployments(entity: MonitoredEntity, mode: 'history' | 'live', period: Period): Promise<DeploymentList>;
  /** The merge requests a DORA lead time is taken over (the report's sample for the entity), every page read. */
  getLeadTimes(entity: MonitoredEntity, window: KpiWindow): Promise<LeadTimeList>;
  getLogsLink(entity: MonitoredEntity, period: Period): Promise<LogsLink>;
  getOverview(period: Period, environment?: string): Promise<Overview>;
  /** The environments the estate's mapping has, and its production one, which a request naming none reads. */
  getEnvironments(): Promise<EstateEnvironments>;
  getDora(
    groupBy: GroupBy,
    window: KpiWindow,
    environment?: string,
    filter?: ReportFilter,
    choices?: DoraChoices,
  ): Promise<DoraReport>;
  getSlo(groupBy: GroupBy, window: KpiWindow, environment?: string, filter?: ReportFilter): Promise<SloReport>;
  /** Incidents opened, restored and breaching an SLA, the backlog at the end and the heatmap, every page read. */
  getIncidentsReport(groupBy: GroupBy, window: KpiWindow, environment?: string): Promise<IncidentsReport>;
  /** Changes planned, implemented and failed, with the change failure rate and the calendar, every page read. */
  getChangesReport(groupBy: GroupBy, window: KpiWindow, environment?: string): Promise<ChangesReport>;
  /** The riskiest applications over the last 7 days, riskiest first, each with its rank in the estate. */
  getTopRisks(limit: number, filter?: ReportFilter, environment?: string): Promise<RiskReport>;
}

export const monitoringApiRef = createApiRef<MonitoringApi>({
  id: 'plugin.rosetta-monitoring.api',
});
