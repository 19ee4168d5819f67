
import { TableColumn } from '@backstage/core-components';
import { NamedTable } from './common/NamedTable';
import type { DoraRow, DoraReport } from '../api/types';
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
function rework(r: DoraRow, reworkState: string | null | undefined): string {
  if (reworkState && reworkState !== 'ok') return `${NONE} (${reworkState})`;
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

/**
 * The change failures still not recovered at the build's as-of. The median recovery time is over those that
 * recovered: "2.0 h · high" for one failure recovered in 2 h reads as every failure recovered, when two more are still
 * open, so the cell counts them. With none recovered the state says so ('not recovered') already.
 */
function notRecovered(r: DoraRow): string {
  const open = r.changeFailuresNotRecovered;
  if (!open || r.recoveryState === 'not recovered') return '';
  return ` · ${open} not recovered`;
}

/** The sources a DORA figure is found through, each with its watermark on the row. */
type Source = 'deployments' | 'incidents' | 'changes';

/** ServiceNow's sources, each with when the lake first read it on the row (after the period's start, else null). */
type ServiceNowSource = 'incidents' | 'changes';

/** A report's period: the instants it runs from and to. */
type DoraPeriod = DoraReport['period'];

function firstRead(r: DoraRow, source: ServiceNowSource): string | null | undefined {
  return source === 'incidents' ? r.incidentsReadFrom : r.changesReadFrom;
}

/**
 * A lake that first read ServiceNow's incidents or change requests after the period's start finds the figures built
 * on them over what it read since: the cell says since when, as readSince does for the deployments. A first read at
 * or after the period's end read nothing of it: that is the state's to say (explained).
 */
function servicenowReadSince(r: DoraRow, period: DoraPeriod | undefined, ...sources: ServiceNowSource[]): string {
  if (!period) return '';
  return sources
    .map(source => {
      const from = firstRead(r, source);
      if (!from || Date.parse(from) <= Date.parse(period.start) || Date.parse(from) >= Date.parse(period.end)) {
        return '';
      }
      return ` · ${source} read since ${from.slice(0, 10)}`;
    })
    .join('');
}

/**
 * A figure is 'insufficient data' when the period ended before the lake first read a ServiceNow source it is found
 * through: the state says so, and when each was first read, since a bare "insufficient data" reads as too few
 * deployments or incidents.
 */
function explained(
  state: string | null | undefined,
  r: DoraRow,
  period: DoraPeriod | undefined,
  ...sources: ServiceNowSource[]
): string | null | undefined {
  if (state !== 'insufficient data' || !period) return state;
  const unread = sources
    .map(source => ({ source, from: firstRead(r, source) }))
    .filter(({ from }) => from && Date.parse(from) >= Date.parse(period.end))
    .map(({ source, from }) => `${source} first read ${when(from)}`);
  if (unread.length === 0) return state;
  return `${state}: ServiceNow not read over the period, ${unread.join(', ')}`;
}

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
const SERVICENOW_SOURCES: ServiceNowSource[] = ['incidents', 'changes'];

/**
 * The days the frequency's level rests on. The level is a cadence met by days, weeks and months holding a deployment,
 * not by the rate: 45 deployments on 15 of 30 days are 1.50/day and high, not elite (daily asks for 20 of the 30), and
 * 30 on one day 1.00/day and medium. The cell says on how many of the period's days, as the level counts them: 24 h
 * back from its end, or UTC days with the part days at its two ends as one, whichever hold more.
 */
function deployDays(r: DoraRow): string {
  const days = r.daysWithDeployments;
  const of = r.deploymentFrequencyDenominatorDays;
  if (r.deploymentFrequencyState !== 'ok' || days === null || days === undefined || of === null || of === undefined) {
    return '';
  }
  return `, on ${days} of ${Math.ceil(of - 1e-9)} days`;
}

/** The columns of a DORA report grouped by `groupBy` over `period`: the first names the rows (applications, ...). */
const doraColumns = (groupBy: string, period?: DoraPeriod): TableColumn<DoraRow>[] => [
  { title: GROUP_LABELS[groupBy] ?? groupBy, field: 'id' },
  {
    title: 'Deployment frequency',
    render: r =>
      level(perDay(r.deploymentFrequencyPerDay), r.deploymentFrequencyLevel, r.deploymentFrequencyState) +
      deployDays(r) +
      readSince(r, period?.start) +
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
      level(
        failureRate(r.changeFailureRate),
        r.changeFailureLevel,
        explained(r.changeFailureState, r, period, ...SERVICENOW_SOURCES),
      ) +
      servicenowReadSince(r, period, ...SERVICENOW_SOURCES) +
      readOnlyUpTo(r, ...FAILURE_SOURCES),
  },
  {
    title: 'Recovery time (median)',
    render: r =>
      level(
        cutHours(r.recoveryMedianHours),
        r.recoveryLevel,
        explained(r.recoveryState, r, period, ...SERVICENOW_SOURCES),
      ) +
      notRecovered(r) +
      servicenowReadSince(r, period, ...SERVICENOW_SOURCES) +
      readOnlyUpTo(r, ...FAILURE_SOURCES),
  },
  // Time to restore service: incidents opened to restored, graded on the recovery time's bands. It counts no
  // deployment, so only ServiceNow's incidents read bear on it.
  {
    title: 'MTTR (median)',
    render: r =>
      level(cutHours(r.mttrMedianHours), r.mttrLevel, explained(r.mttrState, r, period, 'incidents')) +
      servicenowReadSince(r, period, 'incidents') +
      readOnlyUpTo(r, 'incidents'),
  },
  // DORA's fifth metric has no published performance bands: the rate and what it counts.
  {
    title: 'Rework rate',
    render: r =>
      rework(r, explained(r.reworkState, r, period, ...SERVICENOW_SOURCES)) +
      servicenowReadSince(r, period, ...SERVICENOW_SOURCES) +
      readOnlyUpTo(r, ...FAILURE_SOURCES),
  },
];

/**
 * The bands a report's levels come from and how it linked incidents to deployments, as the API answered them: a
 * "high" means another thing under the 2023 and the 2024 bands, and in full or light correlation.
 */
export function bandsAndMode(report: { bandSet: string; mode: string }): string {
  return `bands ${report.bandSet}, ${report.mode} correlation`;
}

/** DORA metrics with their performance level, one row per app or group, over the report's `period`. */
export function DoraTable({ rows, groupBy, period }: { rows: DoraRow[]; groupBy: string; period?: DoraPeriod }) {
  return (
    <NamedTable<DoraRow>
      name={`DORA by ${(GROUP_LABELS[groupBy] ?? groupBy).toLowerCase()}`}
      options={NO_TOOLBAR}
      columns={doraColumns(groupBy, period)}
      data={rows}
    />
  );
}
