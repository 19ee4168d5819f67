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

/** The answers' envelope: built 11 minutes after as_of, read 21 minutes after it (a fresh lag). */
const REPORT_ENVELOPE = {
  generatedAt: '2026-11-28T08:20:45Z',
  freshness: {
    asOf: '2026-11-28T08:00:00Z',
    builtAt: '2026-11-28T08:11:26Z',
    buildRunId: '20261128T081126Z-7aad24cf',
    mappingVersion: 1,
    lagSeconds: 1245,
  },
};

function incidentsRow(
  id: string,
  team: string | null,
  applications: number,
  figures: Omit<IncidentsRow, 'id' | 'team' | 'applications' | 'days'>,
  opened: Record<string, number>,
): IncidentsRow {
  return { id, team, applications, ...figures, days: RUN_DAYS.map(day => ({ day, opened: opened[day] ?? 0 })) };
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
 * The SLO view's report by team over last_30d, made by hand:
 *   team-egret: 99.812 % available against a 99.5 % target (met), 62.4 % of its error budget left, burning it at
 *     0.376 over the period and 0.2 in the last hour; 97 % of its hours under its applications' p95 thresholds against
 *     95 % (met); full coverage. A team has no threshold of its own (the API gives one on application rows only).
 *   team-heron: 99.01 % against its applications' 99.9 % (breached), its budget overspent 9.9 times (-890 % left),
 *     burning at 16.2 in the last hour: a page; no latency reported (held to 99 % of the hours); traffic in
 *     40 % of the hours.
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
      availability: 0.99812,
      availabilityTarget: 0.995,
      availabilityStatus: 'met',
      errorBudgetRemaining: 0.624,
      burnRatePeriod: 0.376,
      burnRate1H: 0.2,
      burnRateAlert: 'none',
      latencyP95Sli: 0.97,
      latencyP95Status: 'met',
      latencyP95ThresholdMs: null,
      latencyTarget: 0.95,
      coverage: 1,
    },
    {
      id: 'team-heron',
      applications: 2,
      availability: 0.9901,
      availabilityTarget: 0.999,
      availabilityStatus: 'breached',
      errorBudgetRemaining: -8.9,
      burnRatePeriod: 9.9,
      burnRate1H: 16.2,
      burnRateAlert: 'page',
      latencyP95Sli: null,
      latencyP95Status: 'no data',
      latencyP95ThresholdMs: null,
      latencyTarget: 0.99,
      coverage: 0.4,
    },
  ],
  page: { limit: 500, nextCursor: null, total: 2 },
};

/*
 * The profiles application's row of the SLO report over last_30d (720 hours), made by hand for its latency SLOs: a
 * p95 within 500 ms in 389 of the 400 hours it was measured (met), a p99 within 1,500 ms in 370 of the 396 hours it
 * was measured (breached), both held to 95 % of the hours. Their error budgets in hours: the p95's 0.05 x 400 = 20,
 * 11 spent: 0.55 consumed, 0.45 left; the p99's 0.05 x 396 = 19.8, 26 spent: 26 / 19.8 consumed, -6.2 / 19.8 left.
 */
export const sloAppProfiles: SloReport = {
  ...sloTeam,
  groupBy: 'app',
  items: [
    {
      id: 'profiles',
      applications: 1,
      latencyP95ThresholdMs: 500,
      latencyP99ThresholdMs: 1500,
      latencyTarget: 0.95,
      latencyP99Target: 0.95,
      latencyP95Sli: 389 / 400,
      latencyP95Status: 'met',
      latencyCoverage: 400 / 720,
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

type ChangeCounts = { planned: number; implemented: number; unsuccessful: number; failed: number; emergency: number };

function changesRow(
  id: string,
  applications: number,
  figures: Omit<ChangesRow, 'id' | 'team' | 'name' | 'applications' | 'days'>,
  days: Record<string, Partial<ChangeCounts>>,
): ChangesRow {
  const none = { planned: 0, implemented: 0, unsuccessful: 0, failed: 0, emergency: 0 };
  return { id, team: null, applications, ...figures, days: RUN_DAYS.map(day => ({ day, ...none, ...days[day] })) };
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
