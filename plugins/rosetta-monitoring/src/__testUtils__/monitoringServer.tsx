import { ReactNode } from 'react';
import { act, fireEvent, screen } from '@testing-library/react';
import { useLocation } from 'react-router-dom';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import type { Entity } from '@backstage/catalog-model';
import { monitoringApiRef } from '../api/MonitoringApi';
import { MonitoringClient } from '../api/MonitoringClient';
import * as f from './fixtures';

/** Where the tests' Backstage proxy lives; the client must call the API below it. */
export const PROXY = 'http://backstage.test/api/proxy';
export const API = `${PROXY}/rosetta/monitoring`;

// Every estate page lists the estate's environments from the overview: the demo estate's, unless a test answers it.
export const server = setupServer(answer('/overview', f.overview));

export function registerServer() {
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
}

/** Answers GET `path` (below /monitoring) with `body`, optionally only when the query matches. */
export function answer(path: string, body: unknown, query: Record<string, string> = {}) {
  return http.get(`${API}${path}`, ({ request }) => {
    const params = new URL(request.url).searchParams;
    if (Object.entries(query).some(([k, v]) => params.get(k) !== v)) return undefined;
    return HttpResponse.json(body as any);
  });
}

/** The run view's reports: incidents by application and by team, and changes by team, from the fixtures. */
export function answerRunReports() {
  server.use(
    answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app' }),
    answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
    answer('/kpis/changes', f.changesReportTeam),
  );
}

/** Answers GET `path` with an application/problem+json error, as the monitoring API does. */
export function problem(path: string, status: number, title: string, detail: string, extra: object = {}) {
  return http.get(`${API}${path}`, () =>
    HttpResponse.json({ type: 'about:blank', title, status, detail, ...extra }, {
      status,
      headers: { 'Content-Type': 'application/problem+json' },
    }),
  );
}

export function testClient() {
  return new MonitoringClient({
    discoveryApi: { getBaseUrl: async () => PROXY },
    fetchApi: { fetch: (input, init) => fetch(input, init) },
  });
}

// The demo estate's Profiles application, as the dev app shows it.
export { profilesSystem } from '../../dev/entities';

export const billingApiComponent: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'billing-api', annotations: { 'argocd/app-name': 'billing-api-prod' } },
  spec: { type: 'service', lifecycle: 'production', owner: 'group:default/team-heron', system: 'billing' },
};

/**
 * Renders UI with the real client against the mocked HTTP API, optionally on an entity page, at `url` (the page's
 * path and query, `/` by default).
 */
export function renderWithApi(ui: ReactNode, entity?: Entity, url = '/') {
  const content = entity ? <EntityProvider entity={entity}>{ui}</EntityProvider> : ui;
  return renderInTestApp(<TestApiProvider apis={[[monitoringApiRef, testClient()]]}>{content}</TestApiProvider>, {
    routeEntries: [url],
  });
}

/** A card's figure: what follows `label` (its <dd> beside a <dt>). */
export const figure = async (label: string) => (await screen.findByText(label)).nextElementSibling;

/** The page's URL query, where a shared link keeps the page's choices. */
export function Query() {
  return <output data-testid="query">{useLocation().search}</output>;
}

/** Renders `ui` opened at `url` (a shared link), with the page's query shown beside it (Query). */
export function renderAt(ui: ReactNode, url: string, entity?: Entity) {
  return renderWithApi(
    <>
      {ui}
      <Query />
    </>,
    entity,
    url,
  );
}

/** The queries the page sends to `path` (below /monitoring) from now on, as they are sent. */
export function askedOf(path: string): URLSearchParams[] {
  const asked: URLSearchParams[] = [];
  server.events.on('request:start', ({ request }) => {
    const url = new URL(request.url);
    if (url.pathname === new URL(`${API}${path}`).pathname) asked.push(url.searchParams);
  });
  return asked;
}

/** Picks `option` in the picker labelled `select` that now shows `shown` (a Select, named by its label and value). */
export async function pick(select: string, shown: string, option: string) {
  fireEvent.mouseDown(await screen.findByRole('button', { name: `${select} ${shown}` }));
  fireEvent.click(await screen.findByRole('option', { name: option }));
}

/** The component summary answering each request in turn with the next of `answers` (the last one over again), and
 * how often it was asked. */
export function summaryAnswers(...answers: Response[]) {
  const asked = { requests: 0 };
  server.use(
    http.get(`${API}/components/:id/summary`, () => {
      asked.requests += 1;
      return answers[Math.min(asked.requests, answers.length) - 1].clone();
    }),
  );
  return asked;
}

/** Lets `seconds` of a faked clock pass, and what they set off settle. */
export async function wait(seconds: number) {
  await act(async () => {
    await jest.advanceTimersByTimeAsync(seconds * 1000);
  });
}

// The API's words for a mart an earlier release built (functions/api/mart.py, EARLIER_RELEASE).
export const EARLIER_RELEASE =
  'the mart was built by an earlier release and lacks a table or column this answer needs; the next build adds it';

/** A 503 problem as the API answers it while its data is unavailable, with Retry-After. */
export const unavailable = (detail: string, retryAfter: string) =>
  HttpResponse.json(
    { type: 'about:blank', title: 'Data unavailable', status: 503, detail },
    { status: 503, headers: { 'Content-Type': 'application/problem+json', 'Retry-After': retryAfter } },
  );

/** A DORA row's figures, each measured (`ok`) at level high: the cells read "<figure> · <level>" before any note,
 * which tests add with the row's read fields. */
export const DORA_FIGURES = {
  deploymentFrequencyPerDay: 0.5,
  deploymentFrequencyLevel: 'high',
  deploymentFrequencyState: 'ok',
  deploymentsFrom: null,
  leadTimeMedianHours: 30,
  leadTimeLevel: 'high',
  leadTimeState: 'ok',
  changeFailureRate: 0.1,
  changeFailureLevel: 'high',
  changeFailureState: 'ok',
  recoveryMedianHours: 5.5,
  changeFailuresNotRecovered: 0,
  recoveryLevel: 'high',
  recoveryState: 'ok',
  mttrMedianHours: 2.5,
  mttrLevel: 'high',
  mttrState: 'ok',
  reworkRate: 0.05,
  reworkNumerator: 1,
  reworkDenominator: 20,
  reworkState: 'ok',
};
