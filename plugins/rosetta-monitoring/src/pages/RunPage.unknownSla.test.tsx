import { screen, within } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { RunPage } from './RunPage';

/** The backlog table's cells of the row whose first cell is `first`, as a reader sees them. */
async function rowOf(table: string, first: string): Promise<HTMLElement[]> {
  const named = await screen.findByRole('table', { name: table }, { timeout: 3000 });
  const row = within(named)
    .getAllByRole('row')
    .find(r => within(r).queryAllByRole('cell')[0]?.textContent === first);
  return within(row!).getAllByRole('cell');
}

// The API gives null SLA breaches beside known counts when the lake did not read task SLAs for the period's days, or
// does not know since when it read them (a lake an older release wrote): unknown, which a bare "–" did not say.
describe('run view SLA breaches unknown', () => {
  registerServer();

  beforeEach(() => {
    const apps = f.incidentsReportApp.items.map(r => (r.id === 'partners' ? { ...r, slaBreaches: null } : r));
    const teams = f.incidentsReportTeam.items.map(r => (r.id === 'team-heron' ? { ...r, slaBreaches: null } : r));
    server.use(
      answer('/kpis/incidents', { ...f.incidentsReportApp, items: apps }, { groupBy: 'app' }),
      answer('/kpis/incidents', { ...f.incidentsReportTeam, items: teams }, { groupBy: 'team' }),
      answer('/kpis/changes', f.changesReportTeam),
    );
  });

  it("reads '– (not read)' beside the application's known counts, and says why", async () => {
    await renderWithApi(<RunPage />);
    // Application, Team, Open, Open P1/P2, SLA breaches, Incidents (30 days).
    const partners = await rowOf('Incident backlog by application', 'partners');
    expect(partners[2]).toHaveTextContent(/^0$/);
    expect(partners[4]).toHaveTextContent(/^– \(not read\)$/);
    expect(partners[5]).toHaveTextContent(/^1$/);
    const why = within(partners[4]).getByTitle(/task SLAs were not read for the period's days/);
    expect(why).toHaveAttribute('title', expect.stringMatching(/older release/));
    expect(within(partners[4]).getByLabelText(/^SLA breaches unknown: /)).toBe(why);
  });

  it("reads '– (not read)' for the team too, while a known count stays a number", async () => {
    await renderWithApi(<RunPage />);
    // Team, Applications, Open, Open P1/P2, SLA breaches.
    expect((await rowOf('Incident backlog by team', 'team-heron'))[4]).toHaveTextContent(/^– \(not read\)$/);
    expect((await rowOf('Incident backlog by team', 'team-egret'))[4]).toHaveTextContent(/^1$/);
  });
});
