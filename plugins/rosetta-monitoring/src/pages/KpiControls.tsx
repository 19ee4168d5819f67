import { FormEvent, useState } from 'react';
import { LabelledSelect } from '../components/common/LabelledSelect';
import type { GroupBy, KpiPeriod, KpiWindow, Schemas } from '../api/types';
import { PERIOD_LABELS } from '../components/common/format';
import { EnvironmentPicker } from './EnvironmentPicker';

const GROUPS = [
  { label: 'Application', value: 'app' },
  { label: 'Team', value: 'team' },
  { label: 'Group', value: 'group' },
  { label: 'Domain', value: 'domain' },
];
const KPI_PERIODS: KpiPeriod[] = ['last_7d', 'last_30d', 'last_90d', 'month', 'quarter', 'previous_month', 'previous_quarter'];
const PERIODS = KPI_PERIODS.map(value => ({ label: PERIOD_LABELS[value], value }));
const DAY_MS = 86_400_000;

/** The day after an ISO date: the API's `to` leaves its day out, the form's last day is included. */
function dayAfter(isoDay: string): string {
  return new Date(Date.parse(`${isoDay}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

/**
 * "2025-06-01 to 2025-08-31": the first and the last day the figures cover (UTC). A period the figures have not reached
 * yet (this month on its first day before its first hour is built, a range of days to come) is empty, its end at its
 * start: it covers no day, where its end less an instant would read as the day before its start.
 */
export function coveredDays(period: Schemas['PeriodOut']): string {
  const first = period.start.slice(0, 10);
  if (Date.parse(period.end) <= Date.parse(period.start)) return `no day yet (the period starts on ${first})`;
  const last = new Date(Date.parse(period.end) - 1).toISOString().slice(0, 10);
  return `${first} to ${last}`;
}

/** A first and a last day (both included), applied together. */
function RangeForm({ onApply }: { onApply: (window: KpiWindow) => void }) {
  const [first, setFirst] = useState('');
  const [last, setLast] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!first || !last || first > last) {
      setError('Pick a first and a last day, the first on or before the last.');
      return;
    }
    setError(null);
    onApply({ from: first, to: dayAfter(last) });
  };
  return (
    <form onSubmit={submit} aria-label="custom range" style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
      <label>
        First day <input type="date" value={first} onChange={e => setFirst(e.target.value)} />
      </label>
      <label>
        Last day <input type="date" value={last} onChange={e => setLast(e.target.value)} />
      </label>
      <button type="submit">Show range</button>
      {error && <span role="alert">{error}</span>}
    </form>
  );
}

/**
 * How a KPI report is grouped, over which period or range of days and in which environment: the controls above a KPI
 * view.
 */
export function KpiControls(props: {
  groupBy: GroupBy;
  onGroupBy: (groupBy: GroupBy) => void;
  window: KpiWindow;
  onWindow: (window: KpiWindow) => void;
  environment?: string;
  onEnvironment: (environment: string | undefined) => void;
}) {
  const { groupBy, onGroupBy, window, onWindow, environment, onEnvironment } = props;
  return (
    <div style={{ display: 'flex', gap: 16, alignItems: 'flex-end' }}>
      <EnvironmentPicker environment={environment} onChange={onEnvironment} />
      <LabelledSelect label="Group by" items={GROUPS} selected={groupBy} onChange={v => onGroupBy(v as GroupBy)} />
      <LabelledSelect
        label="Period"
        placeholder="Custom range"
        items={PERIODS}
        selected={'period' in window ? window.period : ''}
        onChange={v => onWindow({ period: v as KpiPeriod })}
      />
      <RangeForm onApply={onWindow} />
    </div>
  );
}
