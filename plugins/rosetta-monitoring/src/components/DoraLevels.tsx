
import { TableColumn } from '@backstage/core-components';
import { NamedTable } from './common/NamedTable';
import type { DoraRow } from '../api/types';
import { cutHours, decimal, GROUP_LABELS, NONE, percent, when } from './common/format';
import { NO_TOOLBAR } from './common/tableOptions';

function level(value: string, lvl: string | null | undefined, state: string | null | undefined) {
  if (state && state !== 'ok') return `${value} (${state})`;
  return lvl ? `${value} · ${lvl}` : value;
}

/**
 * Deployments a day; a rate too small for two decimals reads "< 0.01/day": 0.00 would read as never deploying. None
 * (a scope whose deployments the mapping names no source of) reads "–", without a unit.
 */
function perDay(value: number | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  if (value > 0 && value < 0.005) return '< 0.01/day';
  return `${decimal(value)}/day`;
}

/**
 * The change failure rate in percent. Its levels' bounds are whole percents (elite at most 5 %, high at most 10 %): a
 * rate just over one, rounded to one decimal, would read as the bound itself beside the level past it ('5.0% · high'
 * for 6 failures in 119 deployments, 5.04 %); it reads '> 5.0%'.
 */
function failureRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  const shown = Number((value * 100).toFixed(1));
  if (shown >= 1 && Number.isInteger(shown) && value * 100 > shown + 1e-9) return `> ${shown.toFixed(1)}%`;
  return percent(value, 1);
}

/** Rollbacks and emergency deployments over successful deployments, or the state that stands for the rate. */
function rework(r: DoraRow): string {
  if (r.reworkState && r.reworkState !== 'ok') return `${NONE} (${r.reworkState})`;
  if (r.reworkRate === null || r.reworkRate === undefined) return NONE;
  return `${percent(r.reworkRate, 1)} (${r.reworkNumerator ?? 0} of ${r.reworkDenominator ?? 0})`;
}

/**
 * A lake younger than the period counts deployments from when it first read them (`deploymentsFrom`, after the
 * period's start): the rate and its level are over those days, and the cell says since when.
 */
function readSince(r: DoraRow, periodStart: string | undefined): string {
  if (!r.deploymentsFrom || !periodStart || Date.parse(r.deploymentsFrom) <= Date.parse(periodStart)) return '';
  return ` · read since ${r.deploymentsFrom.slice(0, 10)}`;
}

/** The sources a DORA figure is found through, each with its watermark on the row. */
type Source = 'deployments' | 'incidents' | 'changes';

/**
 * A source read only up to a time before the period's end (deployments: ArgoCD's and GitLab's, as the build counts
 * them; incidents and change requests: ServiceNow's). What a figure finds through it counts only what was read
 * before: every metric here rests on deployments; the failures, recovery times and rework found through an incident
 * or an unsuccessful or emergency change on those too. The cell names each, since a rate or a median without them
 * would read as the whole period's.
 */
function readOnlyUpTo(r: DoraRow, ...sources: Source[]): string {
  const marks: Record<Source, string | null | undefined> = {
    deployments: r.deploymentsReadUntil,
    incidents: r.incidentsReadUntil,
    changes: r.changesReadUntil,
  };
  return sources
    .map(source => {
      const until = marks[source];
      return until ? ` · ${source} read only up to ${when(until)}` : '';
    })
    .join('');
}

const FAILURE_SOURCES: Source[] = ['deployments', 'incidents', 'changes'];

/**
 * The days the frequency's level rests on. The level is a cadence met by days, weeks and months holding a deployment,
 * not by the rate: 45 deployments on 15 of 30 days are 1.50/day and high, not elite (daily asks for 20 of the 30), and
 * 30 on one day 1.00/day and medium. The cell says on how many of the period's days (a part day at its start is one).
 */
function deployDays(r: DoraRow): string {
  const days = r.daysWithDeployments;
  const of = r.deploymentFrequencyDenominatorDays;
  if (r.deploymentFrequencyState !== 'ok' || days === null || days === undefined || of === null || of === undefined) {
    return '';
  }
  return `, on ${days} of ${Math.ceil(of - 1e-9)} days`;
}

/** The columns of a DORA report grouped by `groupBy`: the first names the rows (applications, teams, ...). */
const doraColumns = (groupBy: string, periodStart?: string): TableColumn<DoraRow>[] => [
  { title: GROUP_LABELS[groupBy] ?? groupBy, field: 'id' },
  {
    title: 'Deployment frequency',
    render: r =>
      level(perDay(r.deploymentFrequencyPerDay), r.deploymentFrequencyLevel, r.deploymentFrequencyState) +
      deployDays(r) +
      readSince(r, periodStart) +
      readOnlyUpTo(r, 'deployments'),
  },
  // Durations are cut: a median just under a level's bound (elite: under 24 h) never reads as the bound itself.
  {
    title: 'Lead time (median)',
    render: r =>
      level(cutHours(r.leadTimeMedianHours), r.leadTimeLevel, r.leadTimeState) + readOnlyUpTo(r, 'deployments'),
  },
  {
    title: 'Change failure rate',
    render: r =>
      level(failureRate(r.changeFailureRate), r.changeFailureLevel, r.changeFailureState) +
      readOnlyUpTo(r, ...FAILURE_SOURCES),
  },
  {
    title: 'Recovery time (median)',
    render: r =>
      level(cutHours(r.recoveryMedianHours), r.recoveryLevel, r.recoveryState) + readOnlyUpTo(r, ...FAILURE_SOURCES),
  },
  // Time to restore service: incidents opened to restored, graded on the recovery time's bands. It counts no
  // deployment, so only ServiceNow's incidents read bear on it.
  {
    title: 'MTTR (median)',
    render: r => level(cutHours(r.mttrMedianHours), r.mttrLevel, r.mttrState) + readOnlyUpTo(r, 'incidents'),
  },
  // DORA's fifth metric has no published performance bands: the rate and what it counts.
  { title: 'Rework rate', render: r => rework(r) + readOnlyUpTo(r, ...FAILURE_SOURCES) },
];

/**
 * The bands a report's levels come from and how it linked incidents to deployments, as the API answered them: a
 * "high" means another thing under the 2023 and the 2024 bands, and in full or light correlation.
 */
export function bandsAndMode(report: { bandSet: string; mode: string }): string {
  return `bands ${report.bandSet}, ${report.mode} correlation`;
}

/** DORA metrics with their performance level, one row per app or group, over a period starting at `periodStart`. */
export function DoraTable({ rows, groupBy, periodStart }: { rows: DoraRow[]; groupBy: string; periodStart?: string }) {
  return (
    <NamedTable<DoraRow>
      name={`DORA by ${(GROUP_LABELS[groupBy] ?? groupBy).toLowerCase()}`}
      options={NO_TOOLBAR}
      columns={doraColumns(groupBy, periodStart)}
      data={rows}
    />
  );
}
