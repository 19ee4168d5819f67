import { FormEvent, ReactNode, useCallback, useMemo, useState } from 'react';
import { LabelledSelect } from '../components/common/LabelledSelect';
import type { GroupBy, KpiPeriod, KpiWindow, Schemas } from '../api/types';
import { PERIOD_LABELS } from '../components/common/format';
import { EnvironmentPicker } from './EnvironmentPicker';
import { useChoiceParam, useQuery } from './queryParams';

const GROUPS: { label: string; value: GroupBy }[] = [
  { label: 'Application', value: 'app' },
  { label: 'Team', value: 'team' },
  { label: 'Group', value: 'group' },
  { label: 'Domain', value: 'domain' },
];
const GROUP_BYS = GROUPS.map(group => group.value);
/**
 * What a KPI view advises when its report is cut: its rows are the groups, the same over any period, so only a wider
 * grouping lists fewer of them.
 */
export const WIDER_GROUPING = 'group by a wider level';
const KPI_PERIODS: KpiPeriod[] = ['last_7d', 'last_30d', 'last_90d', 'month', 'quarter', 'previous_month', 'previous_quarter'];
const PERIODS = KPI_PERIODS.map(value => ({ label: PERIOD_LABELS[value], value }));
const DAY_MS = 86_400_000;
/** The KPI views' period when their URL names none. */
const DEFAULT_PERIOD: KpiPeriod = 'last_30d';
const DEFAULT_WINDOW: KpiWindow = { period: DEFAULT_PERIOD };

/** An ISO date `days` later (earlier when negative): the API's `to` leaves its day out, the form's last day is in. */
function addDays(isoDay: string, days: number): string {
  return new Date(Date.parse(`${isoDay}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** A day of the calendar as the range form gives it (2025-06-01), else undefined (2025-02-30, a date-time, a typo). */
function calendarDay(text: string | null): string | undefined {
  if (!text || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(text) ? text : undefined;
}

/** How a KPI view is grouped, from its URL's `groupBy` (the API's parameter); `fallback` when it names none offered. */
export function useGroupByParam(fallback: GroupBy): [GroupBy, (groupBy: GroupBy) => void] {
  return useChoiceParam('groupBy', GROUP_BYS, fallback);
}

/**
 * The period of a KPI view, from its URL's `period`, or `from` and `to` (the API's parameters, `to` left out), and how
 * to choose another. A period the picker does not list, or a range the form could not have given (a day that is not
 * one, a last day before the first), reads as the last 30 days, which the URL leaves out.
 */
export function useWindowParam(): [KpiWindow, (window: KpiWindow) => void] {
  const [query, change] = useQuery();
  const period = KPI_PERIODS.find(name => name === query.get('period'));
  const from = calendarDay(query.get('from'));
  const to = calendarDay(query.get('to'));
  // The same object while the URL names the same window: the reports are asked again only when it changes.
  const window = useMemo<KpiWindow>(() => {
    if (period) return { period };
    if (from && to && from < to) return { from, to };
    return DEFAULT_WINDOW;
  }, [period, from, to]);
  const choose = useCallback(
    (next: KpiWindow) =>
      change(
        'period' in next
          ? { period: next.period === DEFAULT_PERIOD ? undefined : next.period, from: undefined, to: undefined }
          : { period: undefined, from: next.from, to: next.to },
      ),
    [change],
  );
  return [window, choose];
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

/** A first and a last day (both included), applied together; those of the range shown when a link names one. */
function RangeForm({ window, onApply }: { window: KpiWindow; onApply: (window: KpiWindow) => void }) {
  const [first, setFirst] = useState('from' in window ? window.from : '');
  const [last, setLast] = useState('to' in window ? addDays(window.to, -1) : '');
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!first || !last || first > last) {
      setError('Pick a first and a last day, the first on or before the last.');
      return;
    }
    setError(null);
    onApply({ from: first, to: addDays(last, 1) });
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
  /** A view's own choices, beside the grouping (the DORA view's correlation mode and bands). */
  children?: ReactNode;
}) {
  const { groupBy, onGroupBy, window, onWindow, environment, onEnvironment, children } = props;
  return (
    <div style={{ display: 'flex', gap: 16, alignItems: 'flex-end' }}>
      <EnvironmentPicker environment={environment} onChange={onEnvironment} />
      <LabelledSelect label="Group by" items={GROUPS} selected={groupBy} onChange={v => onGroupBy(v as GroupBy)} />
      {children}
      <LabelledSelect
        label="Period"
        placeholder="Custom range"
        items={PERIODS}
        selected={'period' in window ? window.period : ''}
        onChange={v => onWindow({ period: v as KpiPeriod })}
      />
      <RangeForm window={window} onApply={onWindow} />
    </div>
  );
}
