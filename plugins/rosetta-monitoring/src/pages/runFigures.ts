import type { Incident, RiskRow } from '../api/types';

export interface BacklogRow {
  id: string;
  team: string;
  open: number;
  openP1P2: number;
  slaBreached: number;
  total: number;
}

/** Open-incident backlog per application, with SLA breaches, from each application's incidents. */
export function backlogOf(apps: RiskRow[], incidents: Incident[][]): BacklogRow[] {
  return apps.map((app, i) => {
    const items = incidents[i];
    const open = items.filter(x => x.isOpen);
    return {
      id: app.appName ?? app.appId,
      team: app.team ?? '–',
      open: open.length,
      openP1P2: open.filter(x => (x.priority ?? 5) <= 2).length,
      slaBreached: items.filter(x => x.slaBreached).length,
      total: items.length,
    };
  });
}

/** Incidents opened per application and day: the heatmap's cells. */
export function heatmapOf(apps: RiskRow[], incidents: Incident[][]): { days: string[]; rows: { app: string; counts: number[] }[] } {
  const days = Array.from(
    new Set(incidents.flat().map(x => x.openedAt?.slice(0, 10)).filter((d): d is string => !!d)),
  ).sort();
  const rows = apps.map((app, i) => ({
    app: app.appName ?? app.appId,
    counts: days.map(day => incidents[i].filter(x => x.openedAt?.startsWith(day)).length),
  }));
  return { days, rows };
}
