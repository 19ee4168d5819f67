import { TableColumn } from '@backstage/core-components';
import { NamedTable } from './common/NamedTable';
import type { SloRow } from '../api/types';
import {
  availability,
  budgetLeft,
  burnRate,
  cutPercent,
  GROUP_LABELS,
  ms,
  NONE,
  sliPercent,
  target,
} from './common/format';
import { NO_TOOLBAR } from './common/tableOptions';

/**
 * A figure and its state: the state alone when it is not judged ("no data", "insufficient data"). A share computed
 * from too few hours is not the SLI: beside its state it still read as one (an hour of traffic, "100.0%").
 */
export function judged(value: string, status: string | null | undefined) {
  if (!status) return value;
  return status === 'met' || status === 'breached' ? `${value} · ${status}` : status;
}

/** Whether a status judges its SLO: met or breached, not 'no data' nor 'insufficient data' (none: not said). */
export const isJudged = (status: string | null | undefined) => !status || status === 'met' || status === 'breached';

/**
 * An error budget left and its SLO's state: the API gives the budget whatever the coverage, so a budget of too few
 * hours carries the state beside it, not read as a healthy figure alone ("100.0%" of 24 hours measured).
 */
export function budgetJudged(remaining: number | null | undefined, status: string | null | undefined) {
  const shown = budgetLeft(remaining);
  return isJudged(status) || shown === NONE ? shown : `${shown} · ${status}`;
}

/**
 * What the latency SLI is held to: the share of hours whose p95 stays under the threshold. A team's (group's,
 * domain's) row has no threshold of its own, each of its applications being held to its own: the API gives none, and
 * the row says so beside the share it is held to.
 */
function latencyObjective(r: SloRow): string {
  const threshold = r.latencyP95ThresholdMs;
  const hasThreshold = threshold !== null && threshold !== undefined;
  if (!hasThreshold && (r.latencyTarget === null || r.latencyTarget === undefined)) return NONE;
  const under = hasThreshold ? ms(threshold) : "its applications' thresholds";
  return `p95 ≤ ${under} in ${target(r.latencyTarget)} of hours`;
}

/**
 * The share of the period's hours measured, held against the build's minimum (under it a status is 'insufficient
 * data'): cut, never rounded up, so that 99.5 % does not read as every hour measured (100 %), nor 49.96 % as the 50 %
 * it falls short of. A sliver reads '< 1%', not none.
 */
export function coverage(value: number | null | undefined): string {
  if (value !== null && value !== undefined && value > 0 && value < 0.01) return '< 1%';
  return cutPercent(value, 0);
}

/** The columns of an SLO report grouped by `groupBy`: the first names the rows (applications, teams, ...). */
const sloColumns = (groupBy: string): TableColumn<SloRow>[] => [
  { title: GROUP_LABELS[groupBy] ?? groupBy, field: 'id' },
  { title: 'Availability', render: r => judged(availability(r.availability), r.availabilityStatus) },
  { title: 'Target', render: r => target(r.availabilityTarget) },
  { title: 'Error budget left', render: r => budgetJudged(r.errorBudgetRemaining, r.availabilityStatus) },
  { title: 'Burn rate (period / 1 h)', render: r => `${burnRate(r.burnRatePeriod)} / ${burnRate(r.burnRate1H)}` },
  { title: 'Burn alert', render: r => r.burnRateAlert ?? '–' },
  { title: 'Latency p95', render: r => judged(sliPercent(r.latencyP95Sli, r.latencyTarget), r.latencyP95Status) },
  { title: 'Latency objective', render: latencyObjective },
  { title: 'Coverage', render: r => coverage(r.coverage) },
];

/** SLOs and error budgets, one row per application or group; a group's are summed from its applications' events. */
export function SloTable({ rows, groupBy }: { rows: SloRow[]; groupBy: string }) {
  return (
    <NamedTable<SloRow>
      name={`SLOs by ${(GROUP_LABELS[groupBy] ?? groupBy).toLowerCase()}`}
      options={NO_TOOLBAR}
      columns={sloColumns(groupBy)}
      data={rows}
    />
  );
}
