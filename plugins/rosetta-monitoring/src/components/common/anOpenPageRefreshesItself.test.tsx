import { Profiler } from 'react';
import { screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import {
  answer,
  API,
  billingApiComponent,
  registerServer,
  renderWithApi,
  server,
  wait,
} from '../../__testUtils__/monitoringServer';
import * as f from '../../__testUtils__/fixtures';
import { DashboardPage } from '../../pages/DashboardPage';
import { HealthCard } from '../HealthCard';

/** What the API serves: a build's ETag and its answer. */
type Served = { etag: string; body: object };

/** An answer as the API gives it: the same build's figures, generated now (each answer's generatedAt differs). */
const generatedNow = (body: object) => ({ ...body, generatedAt: new Date().toISOString() });

/**
 * Answers GET `path` as the API does a historized route: `served.body` with its ETag, or a 304 without a body when
 * If-None-Match names that ETag. Returns the If-None-Match of every request, '' when it had none.
 */
function revalidated(path: string, served: Served) {
  const held: string[] = [];
  server.use(
    http.get(`${API}${path}`, ({ request }) => {
      const ifNoneMatch = request.headers.get('if-none-match') ?? '';
      held.push(ifNoneMatch);
      if (ifNoneMatch === served.etag) return new HttpResponse(null, { status: 304, headers: { ETag: served.etag } });
      return HttpResponse.json(generatedNow(served.body), { headers: { ETag: served.etag } });
    }),
  );
  return held;
}

/** Says the browser tab is shown or hidden, as the browser does when the reader switches tabs. */
function showPage(shown: boolean) {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (shown ? 'visible' : 'hidden') });
  document.dispatchEvent(new Event('visibilitychange'));
}

const BUILD_1 = 'W/"build-1"';
const BUILD_2 = 'W/"build-2"';

describe('an open page', () => {
  registerServer();
  let commits = 0;
  const counted = () => {
    commits += 1;
  };
  beforeEach(() => {
    commits = 0;
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.useRealTimers();
    // The document's own visibility again (jsdom's: visible).
    delete (document as { visibilityState?: string }).visibilityState;
  });

  it('asks again every 5 minutes, with the ETag it holds, and an unchanged answer draws nothing again', async () => {
    const held = revalidated('/components/:id/summary', { etag: BUILD_1, body: f.summaryBillingApi });
    await renderWithApi(
      <Profiler id="health" onRender={counted}>
        <HealthCard />
      </Profiler>,
      billingApiComponent,
    );
    await wait(1);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    expect(held).toEqual(['']);
    const drawn = commits;
    await wait(298);
    expect(held).toHaveLength(1);
    await wait(1);
    expect(held).toEqual(['', BUILD_1]);
    expect(commits).toBe(drawn);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    await wait(300);
    expect(held).toEqual(['', BUILD_1, BUILD_1]);
    expect(commits).toBe(drawn);
  });

  it("shows a new build's figures at the next ask", async () => {
    const served = { etag: BUILD_1, body: f.summaryBillingApi as object };
    const held = revalidated('/components/:id/summary', served);
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    // The next build finds a P1 incident open.
    served.etag = BUILD_2;
    served.body = { ...f.summaryBillingApi, incidents: { state: 'ok', open: 1, openP1P2: 1, slaBreached: 0 } };
    await wait(300);
    expect(held).toEqual(['', BUILD_1]);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('red');
    expect(screen.getByText('1 open P1/P2 incident(s)')).toBeInTheDocument();
  });

  it('asks nothing while its browser tab is hidden, and asks at once when shown again', async () => {
    const held = revalidated('/components/:id/summary', { etag: BUILD_1, body: f.summaryBillingApi });
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    showPage(false);
    await wait(3600);
    expect(held).toHaveLength(1);
    showPage(true);
    await wait(0);
    expect(held).toEqual(['', BUILD_1]);
    // Then every 5 minutes again.
    await wait(300);
    expect(held).toHaveLength(3);
  });

  it('asks nothing more once it is left', async () => {
    const held = revalidated('/components/:id/summary', { etag: BUILD_1, body: f.summaryBillingApi });
    const { unmount } = await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    unmount();
    await wait(3600);
    expect(held).toHaveLength(1);
  });

  // The DORA table is a list read page by page: a 304 to its first page says the others are unchanged too (the ETag
  // names the build every page is read from), so they are not asked again.
  it('on the dashboard, asks the overview and an unchanged list of two pages again with a 304 each', async () => {
    const overview = revalidated('/overview', { etag: BUILD_1, body: f.overview });
    const [financeIt, riskIt] = f.doraGroup.items;
    const dora: { cursor: string | null; held: string }[] = [];
    server.use(
      http.get(`${API}/kpis/dora`, ({ request }) => {
        const cursor = new URL(request.url).searchParams.get('cursor');
        const ifNoneMatch = request.headers.get('if-none-match') ?? '';
        dora.push({ cursor, held: ifNoneMatch });
        if (ifNoneMatch === BUILD_1) return new HttpResponse(null, { status: 304, headers: { ETag: BUILD_1 } });
        const page = cursor
          ? { items: [riskIt], page: { limit: 500, nextCursor: null } }
          : { items: [financeIt], page: { limit: 500, nextCursor: 'second' } };
        return HttpResponse.json(generatedNow({ ...f.doraGroup, ...page }), { headers: { ETag: BUILD_1 } });
      }),
    );
    await renderWithApi(
      <Profiler id="dashboard" onRender={counted}>
        <DashboardPage />
      </Profiler>,
    );
    await wait(1);
    const doraTable = () => screen.getByRole('table', { name: 'DORA by group' });
    expect(doraTable()).toHaveTextContent('finance-it');
    expect(doraTable()).toHaveTextContent('risk-it');
    expect(overview).toEqual(['']);
    expect(dora).toEqual([
      { cursor: null, held: '' },
      { cursor: 'second', held: '' },
    ]);
    const drawn = commits;
    await wait(300);
    expect(overview).toEqual(['', BUILD_1]);
    expect(dora).toHaveLength(3);
    expect(dora[2]).toEqual({ cursor: null, held: BUILD_1 });
    expect(commits).toBe(drawn);
    expect(doraTable()).toHaveTextContent('risk-it');
  });

  it('does not give way to a failed ask: the figures shown stay', async () => {
    server.use(answer('/components/:id/summary', f.summaryBillingApi));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    let failed = 0;
    server.use(
      http.get(`${API}/components/:id/summary`, () => {
        failed += 1;
        return HttpResponse.error();
      }),
    );
    await wait(300);
    expect(failed).toBe(1);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
