import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { IncidentsRow } from '../api/types';
import { RunPage } from './RunPage';

/*
 * The heatmap of a period the lake read ServiceNow in for part of: its 31 days (29 October to 28 November), the
 * first read on 18 November, so 20 days before it unknown (3 in October, 17 in November) and 11 read, none of them
 * with an incident opened. "No incidents in the period" claimed the 20 unknown days quiet.
 */
const FIRST_READ = '2026-11-18';

function readFrom(first: string, row: IncidentsRow): IncidentsRow {
  const days = row.days.map(d => ({ day: d.day, opened: d.day < first ? null : 0 }));
  return { ...row, opened: 0, openedP1P2: 0, days };
}

function answerIncidents(items: IncidentsRow[]) {
  server.use(
    answer('/kpis/incidents', { ...f.incidentsReportApp, items }, { groupBy: 'app' }),
    answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
    answer('/kpis/changes', f.changesReportTeam),
  );
}

describe('run view heatmap with days not read', () => {
  registerServer();

  it('says none opened on the days read and how many are unknown, not that the period had none', async () => {
    answerIncidents(f.incidentsReportApp.items.map(row => readFrom(FIRST_READ, row)));
    await renderWithApi(<RunPage />);
    expect(await screen.findByText('No incident opened on the days read')).toBeInTheDocument();
    expect(screen.getByText(/None opened on the 11 days read from ServiceNow; the other 20 are unknown, not none/)).toBeInTheDocument();
    expect(screen.queryByText('No incidents in the period')).not.toBeInTheDocument();
  });

  it('says the period had none when every day was read', async () => {
    answerIncidents(f.incidentsReportApp.items.map(row => readFrom('2026-10-29', row)));
    await renderWithApi(<RunPage />);
    expect(await screen.findByText('No incidents in the period')).toBeInTheDocument();
    expect(screen.queryByText('No incident opened on the days read')).not.toBeInTheDocument();
  });
});
