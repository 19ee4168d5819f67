import { http, HttpResponse } from 'msw';
import { ResponseError } from '@backstage/errors';
import { MonitoringClient } from './MonitoringClient';
import { PROXY, registerServer, server, testClient } from '../__testUtils__/monitoringServer';

const DORA = `${PROXY}/rosetta/monitoring/kpis/dora`;

function page(ids: string[], nextCursor: string | null, headers: Record<string, string> = {}) {
  return HttpResponse.json({ items: ids.map(id => ({ id })), page: { limit: 500, nextCursor } }, { headers });
}

function refused(status: number, title: string, detail: string) {
  return HttpResponse.json(
    { type: 'about:blank', title, status, detail, errors: [{ parameter: 'cursor', in: 'query', detail }] },
    { status, headers: { 'Content-Type': 'application/problem+json' } },
  );
}

/**
 * A fetch that keeps answers as a browser keeps them (its private HTTP cache): a 200 with `max-age` is answered from
 * the cache while fresh, unless the request asks the server itself (`cache: 'no-cache'`, `'reload'`, `'no-store'`).
 */
function browserFetch(): typeof fetch {
  const kept = new Map<string, { body: string; headers: Headers; until: number }>();
  return async (input, init) => {
    const url = String(input);
    const hit = kept.get(url);
    const mode = init?.cache ?? 'default';
    if (hit && hit.until > Date.now() && (mode === 'default' || mode === 'force-cache')) {
      return new Response(hit.body, { status: 200, headers: hit.headers });
    }
    const response = await fetch(input, init);
    const maxAge = /max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '');
    if (response.ok && maxAge && mode !== 'no-store') {
      kept.set(url, { body: await response.clone().text(), headers: response.headers, until: Date.now() + Number(maxAge[1]) * 1000 });
    }
    return response;
  };
}

describe('MonitoringClient reading a list page after page', () => {
  registerServer();

  // A proxy in front of the API that drops the query string answers the first page whatever is asked: its cursor
  // comes back on every page. Read on, the report would hold its first page twenty times over.
  it('refuses a next cursor it has already followed, rather than reading the same page again', async () => {
    const seen: (string | null)[] = [];
    server.use(
      http.get(DORA, ({ request }) => {
        seen.push(new URL(request.url).searchParams.get('cursor'));
        return page(['broken', 'quiet'], 'c1');
      }),
    );
    await expect(testClient().getDora('app', { period: 'last_30d' })).rejects.toThrow(/same next-page cursor/);
    expect(seen).toEqual([null, 'c1']);
  });

  it('stops on the last page, with every item once', async () => {
    const seen: (string | null)[] = [];
    server.use(
      http.get(DORA, ({ request }) => {
        const cursor = new URL(request.url).searchParams.get('cursor');
        seen.push(cursor);
        if (cursor === 'c1') return page(['quiet'], 'c2');
        if (cursor === 'c2') return page(['shop'], null);
        return page(['broken'], 'c1');
      }),
    );
    const report = await testClient().getDora('app', { period: 'last_30d' });
    expect(report.items.map((r: { id: string }) => r.id)).toEqual(['broken', 'quiet', 'shop']);
    expect(report.page.nextCursor).toBeNull();
    expect(seen).toEqual([null, 'c1', 'c2']);
  });

  it("surfaces the API's 422 on a later page", async () => {
    server.use(
      http.get(DORA, ({ request }) => {
        if (new URL(request.url).searchParams.get('cursor') === 'c1') {
          return refused(422, 'Invalid cursor', 'cursor is not one this API gave out; start again without it');
        }
        return page(['broken'], 'c1');
      }),
    );
    const error = await testClient()
      .getDora('app', { period: 'last_30d' })
      .catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(422);
    expect(error.body.error.message).toContain('start again without it');
  });

  // The API lets the browser keep an answer a minute (Cache-Control: private, max-age=60). A build landing between
  // two pages makes the second a 409; read again from the browser's cache, the first page would be the previous
  // build's still, its cursor refused again, and the report an error for that minute.
  it('reads the first page again from the API itself after a new build refused its cursor', async () => {
    let build = 'b1';
    const seen: (string | null)[] = [];
    server.use(
      http.get(DORA, ({ request }) => {
        const cursor = new URL(request.url).searchParams.get('cursor');
        seen.push(cursor);
        if (cursor === 'b1-c1') {
          build = 'b2';
          return refused(409, 'New build served', 'this cursor is of build b1; start again without it');
        }
        if (cursor === 'b2-c1') return page(['b2-quiet'], null);
        return page([`${build}-broken`], `${build}-c1`, { 'Cache-Control': 'private, max-age=60' });
      }),
    );
    const client = new MonitoringClient({
      discoveryApi: { getBaseUrl: async () => PROXY },
      fetchApi: { fetch: browserFetch() },
    });
    const report = await client.getDora('app', { period: 'last_30d' });
    expect(report.items.map((r: { id: string }) => r.id)).toEqual(['b2-broken', 'b2-quiet']);
    expect(seen).toEqual([null, 'b1-c1', null, 'b2-c1']);
  });
});
