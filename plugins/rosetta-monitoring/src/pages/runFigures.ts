import type { Incident, RiskRow } from '../api/types';

/** One application's incidents, or why they could not be read. */
export type AppIncidents = Incident[] | { unavailable: string };

export interface BacklogRow {
  id: string;
  team: string;
  /** Why the application's incidents could not be read; its figures are then null. */
  unavailable?: string;
  open: number | null;
  openP1P2: number | null;
  slaBreached: number | null;
  total: number | null;
}

/** Open-incident backlog per application, with SLA breaches, from each application's incidents. */
export function backlogOf(apps: RiskRow[], incidents: AppIncidents[]): BacklogRow[] {
  return apps.map((app, i) => {
    const items = incidents[i];
    const id = app.appName ?? app.appId;
    const team = app.team ?? '–';
    if (!Array.isArray(items)) {
      return { id, team, unavailable: items.unavailable, open: null, openP1P2: null, slaBreached: null, total: null };
    }
    const open = items.filter(x => x.isOpen);
    return {
      id,
      team,
      open: open.length,
      openP1P2: open.filter(x => (x.priority ?? 5) <= 2).length,
      slaBreached: items.filter(x => x.slaBreached).length,
      total: items.length,
    };
  });
}

/** Incidents opened per application and day: the heatmap's cells (null for an application that could not be read). */
export function heatmapOf(
  apps: RiskRow[],
  incidents: AppIncidents[],
): { days: string[]; rows: { app: string; counts: number[] | null }[] } {
  const read = incidents.filter((items): items is Incident[] => Array.isArray(items));
  const days = Array.from(
    new Set(read.flat().map(x => x.openedAt?.slice(0, 10)).filter((d): d is string => !!d)),
  ).sort();
  const rows = apps.map((app, i) => {
    const items = incidents[i];
    return {
      app: app.appName ?? app.appId,
      counts: Array.isArray(items) ? days.map(day => items.filter(x => x.openedAt?.startsWith(day)).length) : null,
    };
  });
  return { days, rows };
}
