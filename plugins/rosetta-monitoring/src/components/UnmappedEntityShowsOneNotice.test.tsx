import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { answer, API, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { MonitoringTab } from './MonitoringTab';

/** The titles of the tab's eight widgets. */
const WIDGETS = ['Monitoring health', 'SLO', 'Logs', 'Golden signals', 'Deployments', 'Incidents', 'Changes', 'DORA'];

/** The titles of the cards shown, in their order. */
const cardTitles = () => Array.from(document.querySelectorAll('.MuiCardHeader-title'), title => title.textContent);

// The API's 404 for an entity the mapping does not know (functions/api: "Unknown application").
const NOT_IN_THE_MAPPING = "no application 'profiles' in the mapping";

/** Every route of the entity answering the API's 404 for an entity the mapping does not know. */
function noMapping() {
  server.use(
    http.get(`${API}/applications/:id/*`, () =>
      HttpResponse.json(
        { type: 'about:blank', title: 'Unknown application', status: 404, detail: NOT_IN_THE_MAPPING },
        { status: 404, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    ),
  );
}

const notMapped = (from: object) => ({ ...from, items: [], state: 'not mapped' });

describe('the monitoring tab of an entity the mapping does not know', () => {
  registerServer();

  it('says so once, for the page, in place of its eight widgets', async () => {
    noMapping();
    await renderWithApi(<MonitoringTab />, profilesSystem);
    expect(await screen.findByText('No mapping for this entity')).toBeInTheDocument();
    expect(screen.getAllByText('No mapping for this entity')).toHaveLength(1);
    expect(cardTitles().filter(title => WIDGETS.includes(title ?? ''))).toEqual([]);
    expect(screen.queryByLabelText(/^Loading/)).not.toBeInTheDocument();
  });

  it("quotes the API and says how to map the entity, with the plugin's annotations", async () => {
    noMapping();
    await renderWithApi(<MonitoringTab />, profilesSystem);
    const notice = await screen.findByRole('status');
    expect(within(notice).getByText('No mapping for this entity')).toBeInTheDocument();
    expect(notice).toHaveTextContent(NOT_IN_THE_MAPPING);
    expect(notice).toHaveTextContent('rosetta.io/app-id');
    expect(notice).toHaveTextContent('rosetta.io/environment');
    // The API reads an environment in any case: the advice asks for none.
    expect(notice).toHaveTextContent('Mapped in another environment: set rosetta.io/environment to it.');
  });

  // Mapped for its metrics but with no ServiceNow CI: only the incidents and changes are unknown, each says it.
  it('keeps the short state of each widget whose source alone is not mapped', async () => {
    server.use(
      answer('/applications/:id/summary', f.summaryProfiles),
      answer('/applications/:id/timeseries', f.timeseriesProfilesP95),
      answer('/applications/:id/logs/link', f.logsProfiles),
      answer('/applications/:id/deployments', f.deploymentsLiveProfiles, { mode: 'live' }),
      answer('/applications/:id/deployments', f.deploymentsHistoryProfiles, { mode: 'history' }),
      answer('/applications/:id/incidents', notMapped(f.incidentsProfiles)),
      answer('/applications/:id/changes', notMapped(f.changesRecentProfiles)),
      answer('/kpis/dora', f.doraApp),
    );
    await renderWithApi(<MonitoringTab />, profilesSystem);
    expect(await screen.findByText('No source of incidents mapped')).toBeInTheDocument();
    expect(await screen.findByText('No source of changes mapped')).toBeInTheDocument();
    expect(await screen.findByTestId('health-colour')).toBeInTheDocument();
    expect([...cardTitles()].sort()).toEqual([...WIDGETS].sort());
    expect(screen.queryByText('No mapping for this entity')).not.toBeInTheDocument();
  });
});
