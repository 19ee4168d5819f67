import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { Freshness, MonitoredEntity } from '../api/types';
import { IncidentsCard } from './IncidentsCard';
import { TeamCard } from './TeamCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const NOTICE = 'Figures predate mapping v3 (built under v2): they follow the next build';

/** The profiles incidents answer, empty, its figures built under `buildMappingVersion` and resolved under v3. */
function incidentsUnder(buildMappingVersion: number | null) {
  const freshness: Freshness = { ...f.incidentsProfiles.freshness, mappingVersion: 3, buildMappingVersion };
  return { ...f.incidentsProfiles, items: [], freshness };
}

// An admin onboards profiles (mapping v3); until the next build the figures are v2's, which counted none of its
// incidents: "No incidents in the period" alone would read as a quiet application.
describe('figures built under an older mapping', () => {
  registerServer();

  it('says the figures predate the mapping, beside the empty figures', async () => {
    server.use(answer('/applications/:id/incidents', incidentsUnder(2)));
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    expect(await screen.findByText('No incidents in the period')).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent(NOTICE);
  });

  it('says nothing when the build used the current mapping', async () => {
    server.use(answer('/applications/:id/incidents', incidentsUnder(3)));
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    expect(await screen.findByText('No incidents in the period')).toBeInTheDocument();
    expect(screen.queryByText(/predate mapping/)).not.toBeInTheDocument();
  });

  // Before any build the API knows no build mapping: nothing to compare.
  it('says nothing when the build mapping version is unknown', async () => {
    server.use(answer('/applications/:id/incidents', incidentsUnder(null)));
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    expect(await screen.findByText('No incidents in the period')).toBeInTheDocument();
    expect(screen.queryByText(/predate mapping/)).not.toBeInTheDocument();
  });

  it('says it once on the team card', async () => {
    const freshness = { ...f.riskTop.freshness, mappingVersion: 3, buildMappingVersion: 2 };
    const team = 'team-egret';
    server.use(
      answer('/risk/top', { ...f.riskTopWhere(r => r.team === team), freshness }, { team }),
      answer('/kpis/slo', { ...f.sloTeam, freshness, items: f.sloTeam.items.filter(r => r.id === team) }, { team }),
      answer('/kpis/dora', { ...f.doraGroup, freshness, groupBy: 'team', items: [] }, { team }),
    );
    const group = { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: team }, spec: { type: 'team', children: [] } };
    await renderWithApi(<TeamCard />, group);
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    expect(screen.getAllByText(/predate mapping/)).toHaveLength(1);
    expect(screen.getByRole('alert')).toHaveTextContent(NOTICE);
  });
});
