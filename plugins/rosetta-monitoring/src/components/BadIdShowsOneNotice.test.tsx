import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import type { Entity } from '@backstage/catalog-model';
import { API, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import { MonitoringTab } from './MonitoringTab';

/** The titles of the tab's eight widgets. */
const WIDGETS = ['Monitoring health', 'SLO', 'Logs', 'Golden signals', 'Deployments', 'Incidents', 'Changes', 'DORA'];

/** The titles of the cards shown. */
const cardTitles = () => Array.from(document.querySelectorAll('.MuiCardHeader-title'), title => title.textContent);

/** The Profiles system with `annotations` set in its catalog-info.yaml. */
const annotated = (annotations: Record<string, string>): Entity => ({
  ...profilesSystem,
  metadata: { ...profilesSystem.metadata, annotations },
});

/** Every route of the entity answering the same API problem, as it does for an id or environment it refuses. */
function everyRouteAnswers(status: number, title: string, detail: string, parameter?: string) {
  const errors = parameter ? [{ parameter, in: parameter === 'app_id' ? 'path' : 'query', detail }] : undefined;
  server.use(
    http.get(`${API}/applications/:id/*`, () =>
      HttpResponse.json(
        { type: 'about:blank', title, status, detail, ...(errors && { errors }) },
        { status, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    ),
  );
}

/** Says `title` once, for the tab, in place of its widgets. */
async function saidOnceInPlaceOfTheWidgets(title: string): Promise<HTMLElement> {
  const notice = await screen.findByRole('status');
  expect(within(notice).getByText(title)).toBeInTheDocument();
  expect(screen.getAllByText(title)).toHaveLength(1);
  expect(cardTitles().filter(shown => WIDGETS.includes(shown ?? ''))).toEqual([]);
  expect(screen.queryByLabelText(/^Loading/)).not.toBeInTheDocument();
  return notice;
}

describe('the monitoring tab of an entity whose id or environment the API refuses', () => {
  registerServer();

  // "Profiles App" has a space: the API refuses it as an id (422 on app_id) on every route the widgets ask.
  it('says the rosetta.io/app-id annotation is not a valid id once, naming it and the id sent', async () => {
    const said = 'app_id is not an entity id or ref like payments-api or component:default/payments-api';
    everyRouteAnswers(422, 'Invalid app_id', said, 'app_id');
    await renderWithApi(<MonitoringTab />, annotated({ 'rosetta.io/app-id': 'Profiles App' }));
    const notice = await saidOnceInPlaceOfTheWidgets('Not a valid entity id');
    expect(notice).toHaveTextContent(said);
    expect(notice).toHaveTextContent('Profiles App');
    expect(notice).toHaveTextContent("Correct the entity's rosetta.io/app-id annotation");
  });

  // The API reads an environment in any case ("Production" is production) but refuses one longer than 63 characters
  // (422 on environment).
  it('says an environment the API refuses is not a valid environment once', async () => {
    const said = 'environment is too long: at most 63 characters';
    everyRouteAnswers(422, 'Invalid environment', said, 'environment');
    await renderWithApi(<MonitoringTab />, annotated({ 'rosetta.io/environment': 'p'.repeat(64) }));
    const notice = await saidOnceInPlaceOfTheWidgets('Not a valid environment');
    expect(notice).toHaveTextContent(said);
    expect(notice).toHaveTextContent(
      "Correct the entity's rosetta.io/environment annotation to an environment of the mapping, or remove it for " +
        "the estate's production environment.",
    );
    expect(notice).toHaveTextContent('rosetta.io/environment: <its environment in the mapping>');
  });

  // No entry of the mapping is in "prod" (a typo for production): the API's 404 "Unknown environment".
  it('says an environment the mapping does not know is not a valid one, once, not that nothing is mapped', async () => {
    const said = "no entity is mapped in environment 'prod'; the mapping's environments are production, staging";
    everyRouteAnswers(404, 'Unknown environment', said);
    await renderWithApi(<MonitoringTab />, annotated({ 'rosetta.io/environment': 'prod' }));
    const notice = await saidOnceInPlaceOfTheWidgets('Not a valid environment');
    expect(notice).toHaveTextContent(said);
    expect(notice).toHaveTextContent("this entity's environment, prod (");
    expect(screen.queryByText('No mapping for this entity')).not.toBeInTheDocument();
  });
});
