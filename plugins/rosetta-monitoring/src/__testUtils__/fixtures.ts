import type {
  ChangesReport,
  ChangesRow,
  IncidentsReport,
  IncidentsRow,
  RiskReport,
  RiskRow,
  SloReport,
  SloStatus,
  Summary,
} from '../api/types';
import recordedRiskTop from '../__fixtures__/risk-top.json';
import recordedSummaryProfiles from '../__fixtures__/summary-profiles.json';

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

/** The 31 days of last_30d ending 2026-11-28 08:00 UTC, summed by whole days: 29 October to 28 November. */
const RUN_DAYS = Array.from({ length: 31 }, (_, i) => new Date(Date.UTC(2026, 9, 29 + i)).toISOString().slice(0, 10));

/** The datasets the lake keeps a watermark of, as the recorded answers list them. */
const SOURCE_DATASETS = [
  'deploys/deployment_events',
  'dynatrace/service_metrics_hourly',
  'elasticsearch/log_counts_hourly',
  'servicenow/changes',
  'servicenow/incidents',
  'servicenow/task_slas',
];

/**
 * The answers' envelope: built 11 minutes after as_of with the mapping the API answers with, read 21 minutes after it
 * (a fresh lag), every source read up to as_of.
 */
const REPORT_ENVELOPE = {
  generatedAt: '2026-11-28T08:20:45Z',
  freshness: {
    asOf: '2026-11-28T08:00:00Z',
    builtAt: '2026-11-28T08:11:26Z',
    buildRunId: '20261128T081126Z-7aad24cf',
    mappingVersion: 1,
    buildMappingVersion: 1,
    lagSeconds: 1245,
    sources: SOURCE_DATASETS.map(dataset => ({ dataset, readUntil: '2026-11-28T08:00:00Z', behindSeconds: 0 })),
  },
};

/**
 * A row of an incidents report: an application's (with its team) named by its id, as the API names one the mapping
 * gives no name; a team's (team null) has no name.
 */
function incidentsRow(
  id: string,
  team: string | null,
  applications: number,
  figures: Omit<IncidentsRow, 'id' | 'team' | 'name' | 'applications' | 'days'>,
  opened: Record<string, number>,
): IncidentsRow {
  const name = team === null ? null : id;
  return { id, team, name, applications, ...figures, days: RUN_DAYS.map(day => ({ day, opened: opened[day] ?? 0 })) };
}

function incidentsReport(groupBy: string, items: IncidentsRow[]): IncidentsReport {
  return {
    ...REPORT_ENVELOPE,
    groupBy,
    environment: 'production',
    period: { name: 'last_30d', start: '2026-10-29T00:00:00Z', end: '2026-11-28T08:00:00Z' },
    items,
    page: { limit: 500, nextCursor: null, total: items.length },
  };
}

/*
 * The run view's incidents report, made by hand over last_30d:
 *   profiles ('Profiles' in the mapping, team-egret): on 26 November a P1 (its SLA breached, still open) and a P3 restored after 1 h; on the
 *     27th a P3 restored after 2 h; a P4 opened on 28 October at 21:00, before the period, restored on the 29th at 06:00 (9 h).
 *     Opened 3, one P1/P2, restored 3 in a mean of 4 h (1 + 2 + 9 over 3) and a median of 2 h, 1 open (a P1/P2) at the end.
 *   search (team-egret): a P3 opened on 1 October, before the period, still open: opened 0, 1 open at the end.
 *   partners (team-heron): a P2 on 20 November restored after 3 h.
 *   billing (team-heron): no incident.
 */
export const incidentsReportApp = incidentsReport('app', [
  incidentsRow(
    'billing',
    'team-heron',
    1,
    { opened: 0, openedP1P2: 0, restored: 0, slaBreaches: 0, openEndOfPeriod: 0, openP1P2EndOfPeriod: 0, mttrMeanHours: null, mttrMedianHours: null },
    {},
  ),
  incidentsRow(
    'partners',
    'team-heron',
    1,
    { opened: 1, openedP1P2: 1, restored: 1, slaBreaches: 0, openEndOfPeriod: 0, openP1P2EndOfPeriod: 0, mttrMeanHours: 3, mttrMedianHours: 3 },
    { '2026-11-20': 1 },
  ),
  {
    ...incidentsRow(
      'profiles',
      'team-egret',
      1,
      { opened: 3, openedP1P2: 1, restored: 3, slaBreaches: 1, openEndOfPeriod: 1, openP1P2EndOfPeriod: 1, mttrMeanHours: 4, mttrMedianHours: 2 },
      { '2026-11-26': 2, '2026-11-27': 1 },
    ),
    name: 'Profiles',
  },
  incidentsRow(
    'search',
    'team-egret',
    1,
    { opened: 0, openedP1P2: 0, restored: 0, slaBreaches: 0, openEndOfPeriod: 1, openP1P2EndOfPeriod: 0, mttrMeanHours: null, mttrMedianHours: null },
    {},
  ),
]);

/** The same incidents by team: team-egret sums profiles and search, team-heron partners and billing. */
export const incidentsReportTeam = incidentsReport('team', [
  incidentsRow(
    'team-egret',
    null,
    2,
    { opened: 3, openedP1P2: 1, restored: 3, slaBreaches: 1, openEndOfPeriod: 2, openP1P2EndOfPeriod: 1, mttrMeanHours: 4, mttrMedianHours: 2 },
    { '2026-11-26': 2, '2026-11-27': 1 },
  ),
  incidentsRow(
    'team-heron',
    null,
    2,
    { opened: 1, openedP1P2: 1, restored: 1, slaBreaches: 0, openEndOfPeriod: 0, openP1P2EndOfPeriod: 0, mttrMeanHours: 3, mttrMedianHours: 3 },
    { '2026-11-20': 1 },
  ),
]);

/*
 * The SLO view's report by team over last_30d (720 hours), made by hand:
 *   team-egret (profiles and search, both at 99.5 % and 95 %): 99.812 % available against a 99.5 % target (met):
 *     4,700 bad requests of 2,500,000, of a budget of 0.005 x 2,500,000 = 12,500: 0.376 consumed, 62.4 % left, burning
 *     it at 0.376 over the period and 0.2 to 0.4 over the last hour to 3 days (no alert); neither application
 *     breached. 97 % of its hours under its applications' p95 thresholds against 95 % (met): 1,067 good of 1,100
 *     measured (profiles' 389 of 400 and search's 678 of 700), 33 bad of the 0.05 x 1,100 = 55 allowed; its p99 1,050
 *     of 1,096 (profiles' 370 of 396 and search's 680 of 700, met), 46 bad of 54.8 allowed. Traffic in all of both
 *     applications' 1,440 hours (full coverage). A team has no threshold of its own (the API gives one on application
 *     rows only).
 *   team-heron (partners and billing, both at 99.9 %): 99.01 % against its applications' 99.9 % (breached): 9,900 bad
 *     requests of 1,000,000, all partners' (breached), of a budget of 1,000: overspent 9.9 times (-890 % left),
 *     burning at 16.2 in the last hour: a page; no latency reported, so no latency target (the build weighs its
 *     applications' targets by their measured hours: none); traffic in 864 of their 1,440 hours (60 %, over the
 *     build's minimum coverage of 50 %, under which the status would be 'insufficient data').
 */
export const sloTeam: SloReport = {
  ...REPORT_ENVELOPE,
  groupBy: 'team',
  environment: 'production',
  period: { name: 'last_30d', start: '2026-10-29T08:00:00Z', end: '2026-11-28T08:00:00Z' },
  items: [
    {
      id: 'team-egret',
      applications: 2,
      applicationsBreached: 0,
      availabilityDenominator: 2_500_000,
      availabilityNumerator: 2_495_300,
      badRequests: 4_700,
      availability: 0.99812,
      availabilityTarget: 0.995,
      availabilityStatus: 'met',
      errorBudgetAllowed: 12_500,
      errorBudgetConsumed: 0.376,
      errorBudgetRemaining: 0.624,
      burnRatePeriod: 0.376,
      burnRate1H: 0.2,
      burnRate2H: 0.25,
      burnRate6H: 0.3,
      burnRate24H: 0.35,
      burnRate3D: 0.4,
      burnRateAlert: 'none',
      burnWindowsEnd: '2026-11-28T08:00:00Z',
      measuredHours: 1_440,
      expectedHours: 1_440,
      coverage: 1,
      latencyP95ThresholdMs: null,
      latencyP99ThresholdMs: null,
      latencyTarget: 0.95,
      latencyP99Target: 0.95,
      latencyMeasuredHours: 1_100,
      latencyP95GoodHours: 1_067,
      latencyP95Sli: 0.97,
      latencyP95Status: 'met',
      latencyCoverage: 1_100 / 1_440,
      latencyP95BadHours: 33,
      latencyP95BudgetAllowed: 55,
      latencyP95BudgetConsumed: 0.6,
      latencyP95BudgetRemaining: 0.4,
      latencyP99MeasuredHours: 1_096,
      latencyP99GoodHours: 1_050,
      latencyP99Sli: 1_050 / 1_096,
      latencyP99Status: 'met',
      latencyP99Coverage: 1_096 / 1_440,
      latencyP99BadHours: 46,
      latencyP99BudgetAllowed: 54.8,
      latencyP99BudgetConsumed: 46 / 54.8,
      latencyP99BudgetRemaining: 8.8 / 54.8,
    },
    {
      id: 'team-heron',
      applications: 2,
      applicationsBreached: 1,
      availabilityDenominator: 1_000_000,
      availabilityNumerator: 990_100,
      badRequests: 9_900,
      availability: 0.9901,
      availabilityTarget: 0.999,
      availabilityStatus: 'breached',
      errorBudgetAllowed: 1_000,
      errorBudgetConsumed: 9.9,
      errorBudgetRemaining: -8.9,
      burnRatePeriod: 9.9,
      burnRate1H: 16.2,
      burnRate2H: 12.5,
      burnRate6H: 8.1,
      burnRate24H: 4.2,
      burnRate3D: 2.6,
      burnRateAlert: 'page',
      burnWindowsEnd: '2026-11-28T08:00:00Z',
      measuredHours: 864,
      expectedHours: 1_440,
      coverage: 0.6,
      latencyP95ThresholdMs: null,
      latencyP99ThresholdMs: null,
      latencyTarget: null,
      latencyP99Target: null,
      latencyMeasuredHours: 0,
      latencyP95GoodHours: 0,
      latencyP95Sli: null,
      latencyP95Status: 'no data',
      latencyCoverage: null,
      latencyP95BadHours: null,
      latencyP95BudgetAllowed: null,
      latencyP95BudgetConsumed: null,
      latencyP95BudgetRemaining: null,
      latencyP99MeasuredHours: 0,
      latencyP99GoodHours: 0,
      latencyP99Sli: null,
      latencyP99Status: 'no data',
      latencyP99Coverage: null,
      latencyP99BadHours: null,
      latencyP99BudgetAllowed: null,
      latencyP99BudgetConsumed: null,
      latencyP99BudgetRemaining: null,
    },
  ],
  page: { limit: 500, nextCursor: null, total: 2 },
};

/*
 * The profiles application's row of the SLO report over last_30d (720 hours), made by hand for its latency SLOs: a
 * p95 within 500 ms in 389 of the 400 hours it was measured (met), a p99 within 1,500 ms in 370 of the 396 hours it
 * was measured (breached), both held to 95 % of the hours. Their error budgets in hours: the p95's 0.05 x 400 = 20,
 * 11 spent: 0.55 consumed, 0.45 left; the p99's 0.05 x 396 = 19.8, 26 spent: 26 / 19.8 consumed, -6.2 / 19.8 left.
 * Its availability, its part of team-egret's: 2,100 bad requests of 1,200,000 against 99.5 % (met), of a budget of
 * 6,000: 0.35 consumed, 0.65 left; traffic in all its hours. An application row has no count of applications breached.
 */
export const sloAppProfiles: SloReport = {
  ...sloTeam,
  groupBy: 'app',
  items: [
    {
      id: 'profiles',
      applications: 1,
      applicationsBreached: null,
      availabilityDenominator: 1_200_000,
      availabilityNumerator: 1_197_900,
      badRequests: 2_100,
      availability: 1_197_900 / 1_200_000,
      availabilityTarget: 0.995,
      availabilityStatus: 'met',
      errorBudgetAllowed: 6_000,
      errorBudgetConsumed: 0.35,
      errorBudgetRemaining: 0.65,
      burnRatePeriod: 0.35,
      burnRate1H: 0.25,
      burnRate2H: 0.3,
      burnRate6H: 0.3,
      burnRate24H: 0.32,
      burnRate3D: 0.34,
      burnRateAlert: 'none',
      burnWindowsEnd: '2026-11-28T08:00:00Z',
      measuredHours: 720,
      expectedHours: 720,
      coverage: 1,
      latencyP95ThresholdMs: 500,
      latencyP99ThresholdMs: 1500,
      latencyTarget: 0.95,
      latencyP99Target: 0.95,
      latencyMeasuredHours: 400,
      latencyP95GoodHours: 389,
      latencyP95Sli: 389 / 400,
      latencyP95Status: 'met',
      latencyCoverage: 400 / 720,
      latencyP99MeasuredHours: 396,
      latencyP99GoodHours: 370,
      latencyP99Sli: 370 / 396,
      latencyP99Status: 'breached',
      latencyP99Coverage: 396 / 720,
      latencyP95BadHours: 11,
      latencyP95BudgetAllowed: 20,
      latencyP95BudgetConsumed: 11 / 20,
      latencyP95BudgetRemaining: 9 / 20,
      latencyP99BadHours: 26,
      latencyP99BudgetAllowed: 19.8,
      latencyP99BudgetConsumed: 26 / 19.8,
      latencyP99BudgetRemaining: -6.2 / 19.8,
    },
  ],
  page: { limit: 500, nextCursor: null, total: 1 },
};

/** What a summary's SLO carries of the latency SLOs, under the names of an SLO report's row. */
const SUMMARY_LATENCY = [
  'latencyP95ThresholdMs',
  'latencyP99ThresholdMs',
  'latencyTarget',
  'latencyP99Target',
  'latencyP95Sli',
  'latencyP95Status',
  'latencyCoverage',
  'latencyP99Sli',
  'latencyP99Status',
  'latencyP99Coverage',
  'latencyP95BudgetConsumed',
  'latencyP95BudgetRemaining',
  'latencyP99BudgetConsumed',
  'latencyP99BudgetRemaining',
] as const;

/**
 * The recorded profiles summary (recorded before a summary carried the latency SLOs), its SLO given the latency SLOs
 * of the application's row above, as the API gives them both, with `figures` changed.
 */
export function summaryProfilesWithLatency(figures: Partial<SloStatus> = {}): Summary {
  const [row] = sloAppProfiles.items;
  const latency = Object.fromEntries(SUMMARY_LATENCY.map(name => [name, row[name]]));
  const summary = recordedSummaryProfiles as Summary;
  return { ...summary, slo: { ...summary.slo!, ...latency, ...figures } };
}

type ChangeCounts = {
  planned: number;
  upcoming: number;
  implemented: number;
  unsuccessful: number;
  failed: number;
  emergency: number;
};

/** A team's row of a changes report (no team nor name: those are an application row's), over every day. */
function changesRow(
  id: string,
  applications: number,
  figures: Omit<ChangesRow, 'id' | 'team' | 'name' | 'applications' | 'days'>,
  days: Record<string, Partial<ChangeCounts>>,
): ChangesRow {
  const none = { planned: 0, upcoming: 0, implemented: 0, unsuccessful: 0, failed: 0, emergency: 0 };
  return {
    id,
    team: null,
    name: null,
    applications,
    ...figures,
    days: RUN_DAYS.map(day => ({ day, ...none, ...days[day] })),
  };
}

/*
 * The run view's changes by team over last_30d, made by hand:
 *   team-egret: 6 planned (one more canceled), 5 implemented: 3 successful, 1 with issues, 1 unsuccessful (failed), so
 *     a change failure rate of 1/5; 1 emergency. On 26 November 2 planned and implemented, one unsuccessful; on
 *     27 November the emergency, implemented.
 *   team-heron: nothing planned nor closed: no rate.
 */
export const changesReportTeam: ChangesReport = {
  ...incidentsReport('team', []),
  items: [
    changesRow(
      'team-egret',
      2,
      { planned: 6, canceled: 1, emergency: 1, implemented: 5, successful: 3, successfulWithIssues: 1, unsuccessful: 1, failed: 1, closedWithCode: 5, otherCloseCode: 0, changeFailureRate: 0.2 },
      { '2026-11-26': { planned: 2, implemented: 2, unsuccessful: 1, failed: 1 }, '2026-11-27': { implemented: 1, emergency: 1 } },
    ),
    changesRow(
      'team-heron',
      2,
      { planned: 0, canceled: 0, emergency: 0, implemented: 0, successful: 0, successfulWithIssues: 0, unsuccessful: 0, failed: 0, closedWithCode: 0, otherCloseCode: 0, changeFailureRate: null },
      {},
    ),
  ],
};

/** The recorded ranking's rows that `keep` keeps, as the API answers them for that filter: its page counts them. */
export function riskTopWhere(keep: (row: RiskRow) => boolean): RiskReport {
  const items = recordedRiskTop.items.filter(keep);
  return { ...recordedRiskTop, items, page: { ...recordedRiskTop.page, total: items.length } };
}
