import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { IncidentsCard } from './IncidentsCard';
import { ChangesCard } from './ChangesCard';
import { DeploymentsCard } from './DeploymentsCard';
import { DashboardPage } from '../pages/DashboardPage';
import { RunPage } from '../pages/RunPage';
import { SloPage } from '../pages/SloPage';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';

// A screen reader lists a page's tables, and moves from one to the next, by their names: unnamed, the tab's seven
// tables and the dashboard's three each read "table", with nothing to tell the open incidents from the history.
describe('tables', () => {
  registerServer();

  it("are named in the entity's cards", async () => {
    server.use(
      answer(`${base}/incidents`, f.incidentsProfiles),
      answer(`${base}/changes`, f.changesUpcomingProfiles, { status: 'upcoming' }),
      answer(`${base}/changes`, f.changesRecentProfiles),
      answer(`${base}/deployments`, f.deploymentsLiveProfiles, { view: 'live' }),
      answer(`${base}/deployments`, f.deploymentsHistoryProfiles),
    );
    await renderWithApi(
      <>
        <IncidentsCard entity={profiles} period="last_7d" />
        <ChangesCard entity={profiles} period="last_7d" />
        <DeploymentsCard entity={profiles} period="last_7d" />
      </>,
    );
    for (const name of ['Open incidents', 'Recent incidents', 'Upcoming changes', 'Recent changes', 'Live deployment status', 'Deployment history']) {
      expect(await screen.findByRole('table', { name })).toBeInTheDocument();
    }
  });

  it('are named in the dashboard and the SLO and run views', async () => {
    server.use(
      answer('/overview', f.overview),
      answer('/kpis/dora', f.doraGroup),
      answer('/kpis/slo', f.sloTeam),
      answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app' }),
      answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
      answer('/kpis/changes', f.changesReportTeam),
    );
    await renderWithApi(
      <>
        <DashboardPage />
        <SloPage />
        <RunPage />
      </>,
    );
    for (const name of [
      'Health by domain, group and team',
      'Applications by risk',
      'DORA by group',
      'SLOs by team',
      'Incident backlog by application',
      'Incident backlog by team',
      'Changes by team',
    ]) {
      expect(await screen.findByRole('table', { name })).toBeInTheDocument();
    }
  });
});
