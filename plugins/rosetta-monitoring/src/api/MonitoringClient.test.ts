import { http, HttpResponse } from 'msw';
import { ResponseError } from '@backstage/errors';
import { MonitoringClient } from './MonitoringClient';
import { PROXY, problem, registerServer, server, testClient } from '../__testUtils__/monitoringServer';
import { summaryBillingApi } from '../__testUtils__/fixtures';

describe('MonitoringClient', () => {
  registerServer();

  it('calls the API through the Backstage proxy with the entity ref as id', async () => {
    let seen = '';
    server.use(
      http.get(`${PROXY}/rosetta/monitoring/components/:id/summary`, ({ request }) => {
        seen = request.url;
        return HttpResponse.json(summaryBillingApi);
      }),
    );
    const summary = await testClient().getSummary({ level: 'components', id: 'component:default/billing-api' });
    expect(summary.entity.id).toBe('billing-api');
    expect(seen).toBe(`${PROXY}/rosetta/monitoring/components/component%3Adefault%2Fbilling-api/summary`);
  });

  it('uses the configured proxy path', async () => {
    server.use(http.get(`${PROXY}/monitoring-gw/monitoring/overview`, () => HttpResponse.json({ ok: true })));
    const client = new MonitoringClient({
      discoveryApi: { getBaseUrl: async () => PROXY },
      fetchApi: { fetch: (input, init) => fetch(input, init) },
      proxyPath: 'monitoring-gw/',
    });
    await expect(client.getOverview('last_30d')).resolves.toEqual({ ok: true });
  });

  it('follows the pages of a list route, and stops after 20 pages', async () => {
    const cursors: (string | null)[] = [];
    server.use(
      http.get(`${PROXY}/rosetta/monitoring/kpis/dora`, ({ request }) => {
        const cursor = new URL(request.url).searchParams.get('cursor');
        cursors.push(cursor);
        return HttpResponse.json({ items: [{ id: `row-${cursors.length}` }], page: { limit: 500, nextCursor: `c${cursors.length}` } });
      }),
    );
    const report = await testClient().getDora('app', { period: 'last_30d' });
    expect(cursors).toEqual([null, ...Array.from({ length: 19 }, (_, i) => `c${i + 1}`)]);
    expect(report.items).toHaveLength(20);
    expect(report.page.nextCursor).toBe('c20');
  });

  // An hourly build lands between two pages: the API refuses the first build's cursor (409, "New build served"). The
  // report is read again from its first page, in the new build, not shown as an error nor mixed across builds.
  it('reads a list again from its first page when a new build is served between its pages', async () => {
    let build = 'b1';
    const seen: (string | null)[] = [];
    server.use(
      http.get(`${PROXY}/rosetta/monitoring/kpis/dora`, ({ request }) => {
        const cursor = new URL(request.url).searchParams.get('cursor');
        seen.push(cursor);
        if (cursor === 'b1-c1') {
          build = 'b2';
          return HttpResponse.json(
            { type: 'about:blank', title: 'New build served', status: 409, detail: 'this cursor is of build b1' },
            { status: 409, headers: { 'Content-Type': 'application/problem+json' } },
          );
        }
        if (cursor === 'b2-c1') return HttpResponse.json({ items: [{ id: 'b2-row-2' }], page: { limit: 500, nextCursor: null } });
        return HttpResponse.json({ items: [{ id: `${build}-row-1` }], page: { limit: 500, nextCursor: `${build}-c1` } });
      }),
    );
    const report = await testClient().getDora('app', { period: 'last_30d' });
    expect(seen).toEqual([null, 'b1-c1', null, 'b2-c1']);
    expect(report.items.map((r: { id: string }) => r.id)).toEqual(['b2-row-1', 'b2-row-2']);
  });

  it('reads every page of the incidents report, for a named period or a range of days', async () => {
    const seen: string[] = [];
    server.use(
      http.get(`${PROXY}/rosetta/monitoring/kpis/incidents`, ({ request }) => {
        const params = new URL(request.url).searchParams;
        seen.push(params.toString());
        const last = params.get('cursor') === 'c1';
        return HttpResponse.json({ items: [{ id: last ? 't2' : 't1' }], page: { limit: 500, nextCursor: last ? null : 'c1' } });
      }),
    );
    const report = await testClient().getIncidentsReport('team', { from: '2026-11-01', to: '2026-11-08' });
    expect(report.items.map((r: { id: string }) => r.id)).toEqual(['t1', 't2']);
    expect(report.page.nextCursor).toBeNull();
    expect(seen).toEqual([
      'groupBy=team&from=2026-11-01&to=2026-11-08&limit=500',
      'groupBy=team&from=2026-11-01&to=2026-11-08&limit=500&cursor=c1',
    ]);
  });

  // A team's page asks for its part of the estate: the API keeps the rows holding one of its applications.
  it("asks the SLO and DORA reports and the risk ranking for a team's part of the estate", async () => {
    const seen: string[] = [];
    const record = ({ request }: { request: Request }) => {
      const url = new URL(request.url);
      seen.push(`${url.pathname.replace(/^.*\/monitoring/, '')}?${url.searchParams}`);
      return HttpResponse.json({ items: [], page: { limit: 500, nextCursor: null } });
    };
    server.use(
      http.get(`${PROXY}/rosetta/monitoring/kpis/slo`, record),
      http.get(`${PROXY}/rosetta/monitoring/kpis/dora`, record),
      http.get(`${PROXY}/rosetta/monitoring/risk/top`, record),
    );
    const client = testClient();
    await client.getSlo('team', { period: 'last_30d' }, undefined, { team: 'team-egret' });
    await client.getDora('team', { period: 'last_30d' }, undefined, { team: 'team-egret' });
    await client.getTopRisks(100, { team: 'team-egret' });
    // Without a filter, the whole estate, as before.
    await client.getTopRisks(10);
    expect(seen).toEqual([
      '/kpis/slo?groupBy=team&period=last_30d&team=team-egret&limit=500',
      '/kpis/dora?groupBy=team&period=last_30d&team=team-egret&limit=500',
      '/risk/top?limit=100&team=team-egret',
      '/risk/top?limit=10',
    ]);
  });

  it('raises a ResponseError carrying the problem details', async () => {
    server.use(problem('/overview', 503, 'Lake unavailable', 'the lake cannot be read'));
    const error = await testClient().getOverview('last_30d').catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(503);
    expect(error.body.error.message).toContain('the lake cannot be read');
  });

  // While its mart copy loads (a cold start) or a new build's objects land, the API answers 503 "Data unavailable"
  // with Retry-After: the client gives it at once, with its Retry-After, for the widget to say it waits (and ask
  // again), rather than waiting out of sight behind a spinner.
  it('gives a 503 with a short Retry-After at once, its Retry-After with it', async () => {
    let requests = 0;
    server.use(
      http.get(`${PROXY}/rosetta/monitoring/overview`, () => {
        requests += 1;
        if (requests === 1) {
          return HttpResponse.json(
            { type: 'about:blank', title: 'Data unavailable', status: 503, detail: 'the mart copy is still loading; retry shortly' },
            { status: 503, headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '1' } },
          );
        }
        return HttpResponse.json({ ok: true });
      }),
    );
    const error = await testClient().getOverview('last_30d').catch(e => e);
    expect(error.statusCode).toBe(503);
    expect(error.response.headers.get('retry-after')).toBe('1');
    expect(requests).toBe(1);
  });

  /** The overview route answering a 503 problem every time, and how many times it was asked. */
  function overviewUnavailable(title: string, detail: string, headers: Record<string, string> = {}) {
    const asked = { requests: 0 };
    server.use(
      http.get(`${PROXY}/rosetta/monitoring/overview`, () => {
        asked.requests += 1;
        return HttpResponse.json(
          { type: 'about:blank', title, status: 503, detail },
          { status: 503, headers: { 'Content-Type': 'application/problem+json', ...headers } },
        );
      }),
    );
    return asked;
  }

  it('does not wait for a Retry-After longer than half a minute, nor ask again after a 503 without one', async () => {
    const long = overviewUnavailable('Data unavailable', 'the mart copy could not be loaded whole', { 'Retry-After': '600' });
    const error = await testClient().getOverview('last_30d').catch(e => e);
    expect(error.statusCode).toBe(503);
    expect(long.requests).toBe(1);
    // A source not configured is a 503 without Retry-After: shown at once, not asked again.
    const unconfigured = overviewUnavailable('Kibana not configured', 'no Kibana URL is configured');
    await expect(testClient().getOverview('last_30d')).rejects.toMatchObject({ statusCode: 503 });
    expect(unconfigured.requests).toBe(1);
  });

  it('sends one request for the same page asked for by several cards at once, and a new one once it is answered', async () => {
    let requests = 0;
    server.use(
      http.get(`${PROXY}/rosetta/monitoring/components/:id/summary`, () => {
        requests += 1;
        return HttpResponse.json(summaryBillingApi);
      }),
    );
    const client = testClient();
    const entity = { level: 'components' as const, id: 'component:default/billing-api' };
    // The health, SLO and DORA cards of one entity page each ask for its summary as the page opens.
    const answers = await Promise.all([client.getSummary(entity), client.getSummary(entity), client.getSummary(entity)]);
    expect(requests).toBe(1);
    expect(answers.map(a => a.entity.id)).toEqual(['billing-api', 'billing-api', 'billing-api']);
    // Another environment is another page.
    await client.getSummary({ ...entity, environment: 'staging' });
    expect(requests).toBe(2);
    // Asked again later (a refresh), the summary is fetched again.
    await client.getSummary(entity);
    expect(requests).toBe(3);
  });

  it('gives every card of a failed shared request the error', async () => {
    server.use(problem('/overview', 503, 'Lake unavailable', 'the lake cannot be read'));
    const client = testClient();
    const errors = await Promise.all([client.getOverview('last_30d').catch(e => e), client.getOverview('last_30d').catch(e => e)]);
    expect(errors.map(e => e.statusCode)).toEqual([503, 503]);
  });
});
