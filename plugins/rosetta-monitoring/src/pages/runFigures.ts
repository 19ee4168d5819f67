import type { IncidentsRow } from '../api/types';
import { textOrder } from '../components/common/order';

export interface BacklogRow {
  id: string;
  /** The application's name in the mapping, else its id (a team row: the team). */
  name: string;
  /** The application's team ("–" for a team row). */
  team: string;
  /** The applications a row sums: 1 for an application. */
  applications: number;
  /** Null when none of the period's days was read from ServiceNow: unknown, not 0. */
  open: number | null;
  openP1P2: number | null;
  slaBreaches: number | null;
  opened: number | null;
  mttrMeanHours: number | null;
  mttrMedianHours: number | null;
}

/** A figure to sort by: an unknown one (null) after every known one. */
function known(n: number | null): number {
  return n ?? -1;
}

/** The backlog table's rows, the largest backlog first: open P1/P2, then open, then opened in the period. */
export function backlogOf(rows: IncidentsRow[]): BacklogRow[] {
  return rows
    .map(r => ({
      id: r.id,
      name: r.name ?? r.id,
      team: r.team ?? '–',
      applications: r.applications,
      open: r.openEndOfPeriod ?? null,
      openP1P2: r.openP1P2EndOfPeriod ?? null,
      slaBreaches: r.slaBreaches ?? null,
      opened: r.opened ?? null,
      mttrMeanHours: r.mttrMeanHours ?? null,
      mttrMedianHours: r.mttrMedianHours ?? null,
    }))
    .sort(
      (a, b) =>
        known(b.openP1P2) - known(a.openP1P2) ||
        known(b.open) - known(a.open) ||
        known(b.opened) - known(a.opened) ||
        textOrder(a.id, b.id),
    );
}

/**
 * The heatmap's cells: every day of the period (as the report gives them, zero-filled) and, for each application
 * that opened at least one incident in it, its incidents opened per day; null on a day its row gives no figure for
 * (no data, which is not zero).
 */
export function heatmapOf(rows: IncidentsRow[]): {
  days: string[];
  rows: { app: string; name: string; counts: (number | null)[] }[];
} {
  const days = Array.from(new Set(rows.flatMap(r => r.days.map(d => d.day)))).sort();
  const cells = rows
    .filter(r => (r.opened ?? 0) > 0)
    .map(r => {
      const opened = new Map(r.days.map(d => [d.day, d.opened]));
      return { app: r.id, name: r.name ?? r.id, counts: days.map(day => opened.get(day) ?? null) };
    });
  return { days, rows: cells };
}

/**
 * Whether the heatmap has nothing to show: no incident opened and every day read. Days before the lake first read
 * ServiceNow are unknown ("–"), and a period mostly of such days with none opened since is not a quiet one.
 */
export function noneOpenedOnADayRead(report: { items: IncidentsRow[] }): boolean {
  return report.items.every(row => row.opened === 0 && row.days.every(d => knownOn(row, d.day)));
}

/** Whether a row gives its incidents opened on `day`: null or absent is unknown. */
export function knownOn(row: IncidentsRow, day: string): boolean {
  const found = row.days.find(d => d.day === day);
  return found !== undefined && found.opened !== null && found.opened !== undefined;
}
