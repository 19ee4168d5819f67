import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { API, answer, problem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { IncidentsCard } from './IncidentsCard';
import { TeamCard } from './TeamCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const emptyList = { ...f.incidentsProfiles, items: [] };

// A widget's state replaces its content without moving the focus: a screen reader hears of it only from a live
// region. Loading showed a bar named "Loading" that nothing announced, and "No incidents in the period" was a heading
// nothing announced either.
describe('widget states', () => {
  registerServer();

  it('announces what is loading', async () => {
    let answerNow = () => {};
    const answered = new Promise<void>(resolve => {
      answerNow = resolve;
    });
    server.use(
      http.get(`${API}/applications/:id/incidents`, async () => {
        await answered;
        return HttpResponse.json(emptyList);
      }),
    );
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    expect(screen.getByRole('status')).toHaveTextContent('Loading incidents…');
    answerNow();
    expect(await screen.findByText('No incidents in the period')).toBeInTheDocument();
  });

  it('announces a widget with nothing in the period', async () => {
    server.use(answer('/applications/:id/incidents', emptyList));
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    const status = await screen.findByRole('status');
    expect(await within(status).findByText('No incidents in the period')).toBeInTheDocument();
  });

  it('announces an entity without a mapping', async () => {
    server.use(problem('/applications/:id/incidents', 404, 'Not Found', "no entity 'profiles' in the mapping"));
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    const status = await screen.findByRole('status');
    expect(await within(status).findByText('No mapping for this entity')).toBeInTheDocument();
  });

  it('alerts of an error', async () => {
    server.use(problem('/applications/:id/incidents', 500, 'Internal error', 'boom'));
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    expect(await screen.findByRole('alert')).toHaveTextContent(/Could not load incidents/);
  });

  it("announces the team card's problem with the Group", async () => {
    const group = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'team-kite', annotations: { 'rosetta.io/monitoring-level': 'tribe' } },
      spec: { type: 'team', children: [] },
    };
    await renderWithApi(<TeamCard />, group);
    const status = await screen.findByRole('status');
    expect(within(status).getByText('Not a monitoring level')).toBeInTheDocument();
  });

  it('announces a team the mapping does not know', async () => {
    for (const path of ['/risk/top', '/kpis/slo', '/kpis/dora']) {
      server.use(problem(path, 404, 'Not Found', "no team 'team-kite' in the mapping"));
    }
    const group = { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'team-kite' }, spec: { type: 'team', children: [] } };
    await renderWithApi(<TeamCard />, group);
    expect(await within(await screen.findByRole('status')).findByText('No mapping for this team')).toBeInTheDocument();
  });
});
