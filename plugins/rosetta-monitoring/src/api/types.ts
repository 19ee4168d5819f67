import type { components } from './schema.generated';

export type Schemas = components['schemas'];

export type Summary = Schemas['Summary'];
export type GoldenSignals = Schemas['GoldenSignals'];
export type SloStatus = Schemas['SloStatus'];
export type Freshness = Schemas['Freshness'];
export type Timeseries = Schemas['Timeseries'];
export type IncidentList = Schemas['IncidentList'];
export type Incident = Schemas['Incident'];
export type ChangeList = Schemas['ChangeList'];
export type Change = Schemas['Change'];
export type DeploymentList = Schemas['DeploymentList'];
export type Deployment = Schemas['Deployment'];
export type LeadTimeList = Schemas['LeadTimeList'];
export type LeadTime = Schemas['LeadTime'];
export type LiveComponent = Schemas['LiveComponent'];
export type LiveSourceState = Schemas['LiveSourceState'];
export type LogsLink = Schemas['LogsLink'];
export type Overview = Schemas['Overview'];
export type HealthLevel = Schemas['HealthLevel'];
export type DoraReport = Schemas['DoraReport'];
export type DoraRow = Schemas['DoraRow'];
export type SloReport = Schemas['SloReport'];
export type SloRow = Schemas['SloRow'];
export type RiskReport = Schemas['RiskReport'];
export type RiskRow = Schemas['RiskRow'];
export type IncidentsReport = Schemas['IncidentsReport'];
export type IncidentsRow = Schemas['IncidentsRow'];
export type IncidentDay = Schemas['IncidentDay'];
export type ChangesReport = Schemas['ChangesReport'];
export type ChangesRow = Schemas['ChangesRow'];

/** Which family of routes serves an entity. */
export type EntityLevel = 'applications' | 'components';

/** The monitoring API's id for a catalog entity and the routes that serve it. */
export interface MonitoredEntity {
  level: EntityLevel;
  id: string;
  /** The mapping environment the entity is asked for in; the API's production environment when left out. */
  environment?: string;
}

/** The environments the estate's mapping has (sorted), and its production one: what a request naming none reads. */
export interface EstateEnvironments {
  environments: string[];
  /** Unknown (undefined) from an API older than the field. */
  production?: string;
}

export type Period = 'last_24h' | 'last_7d' | 'last_30d' | 'last_90d';
/** The periods the KPI tables are built for. */
export type KpiPeriod =
  | 'last_7d'
  | 'last_30d'
  | 'last_90d'
  | 'month'
  | 'quarter'
  | 'previous_month'
  | 'previous_quarter';
/** A named KPI period, or an explicit range of UTC days: `from` included, `to` left out (ISO dates). */
export type KpiWindow = { period: KpiPeriod } | { from: string; to: string };
export type IncidentStatus = 'open' | 'closed' | 'all';
export type ChangeStatus = 'upcoming' | 'recent' | 'all';
export type GroupBy = 'app' | 'team' | 'group' | 'domain';
/** How DORA links incidents to deployments: full correlation, or light (the latest deployment within 24 h). */
export type DoraMode = 'full' | 'light';
/** The DORA report's performance levels: those of the 2023 or of the 2024 State of DevOps report. */
export type BandSet = '2023' | '2024';
/** A DORA report's correlation mode and bands; the API's defaults (full, 2023) where left out. */
export type DoraChoices = { mode?: DoraMode; bandSet?: BandSet };
/**
 * The part of the estate a KPI report or the risk ranking holds: the rows holding an application of this team, group
 * or domain, or this application (ids in the mapping, compared ignoring case); several together narrow it.
 */
export type ReportFilter = { app?: string; team?: string; group?: string; domain?: string };
export type Metric = string;
