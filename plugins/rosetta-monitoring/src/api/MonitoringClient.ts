import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import type { MonitoringApi } from './MonitoringApi';
import type { DoraChoices, KpiWindow, MonitoredEntity, ReportFilter } from './types';

export const DEFAULT_PROXY_PATH = '/rosetta';

type Query = Record<string, string | number | undefined>;

/** List routes are read page after page to their end: PAGE_SIZE items a page (the API's most), MAX_PAGES pages at most. */
const PAGE_SIZE = 500;
const MAX_PAGES = 20;

/**
 * Whether the API's 503 problem waits for its next build: a mart an earlier release built lacks what the answer needs
 * ("...; the next build adds it"). Asked again before that build, it answers the same.
 */
export function waitsForTheNextBuild(problem: { detail?: unknown } | undefined): boolean {
  return typeof problem?.detail === 'string' && /\bthe next build\b/i.test(problem.detail);
}

/**
 * A cursor is refused with a 409 once a new build is served: the rows read so far may have moved, so the list is
 * read again from its first page, MAX_RESTARTS times at most.
 */
const MAX_RESTARTS = 2;

/**
 * The answers kept to be asked for again with their ETag (If-None-Match), by URL: MAX_REMEMBERED, the latest. An
 * answer the API holds unchanged is then a 304, and the value already shown is given back, the same object.
 */
const MAX_REMEMBERED = 50;

/**
 * Calls the monitoring API through the Backstage proxy. The proxy entry adds the
 * API key, so no credential of the monitoring API ever reaches the browser.
 *
 * A 503 with Retry-After (the API's mart copy still loading, a new build landing) is given at once, not waited out of
 * sight: the widget says what it waits for and asks again itself (useMonitoringData).
 */
export class MonitoringClient implements MonitoringApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;
  private readonly proxyPath: string;
  /** Requests on their way, by URL: the cards of one page that ask for the same thing share one request. */
  private readonly inFlight = new Map<string, Promise<any>>();
  /** The latest answers that came with an ETag, by URL, oldest first. */
  private readonly remembered = new Map<string, { etag: string; value: any }>();
  /** Each list read whole, by its first page's answer: a 304 to the first page gives back the whole list. */
  private readonly lists = new WeakMap<object, any>();

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi; proxyPath?: string }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
    const path = options.proxyPath ?? DEFAULT_PROXY_PATH;
    this.proxyPath = `/${path.replace(/^\/+|\/+$/g, '')}`;
  }

  getSummary(entity: MonitoredEntity) {
    return this.get(`${entityPath(entity)}/summary`, { environment: entity.environment });
  }

  getTimeseries(entity: MonitoredEntity, metric: string, period: string) {
    return this.get(`${entityPath(entity)}/timeseries`, { metric, period, environment: entity.environment });
  }

  getIncidents(entity: MonitoredEntity, status: string, period: string) {
    return this.getAll(`${entityPath(entity)}/incidents`, { status, period, environment: entity.environment });
  }

  getChanges(entity: MonitoredEntity, status: string, period: string) {
    return this.getAll(`${entityPath(entity)}/changes`, { status, period, environment: entity.environment });
  }

  getDeployments(entity: MonitoredEntity, mode: string, period: string) {
    if (mode === 'live') {
      return this.get(`${entityPath(entity)}/deployments`, { mode, environment: entity.environment });
    }
    return this.getAll(`${entityPath(entity)}/deployments`, { mode, period, environment: entity.environment });
  }

  getLeadTimes(entity: MonitoredEntity, window: KpiWindow) {
    return this.getAll(`${entityPath(entity)}/lead-times`, { ...window, environment: entity.environment });
  }

  getLogsLink(entity: MonitoredEntity, period: string) {
    // The link route names its period timeRange; it takes the period names (last_7d, ...) as they are.
    return this.get(`${entityPath(entity)}/logs/link`, { timeRange: period, environment: entity.environment });
  }

  getOverview(period: string, environment?: string) {
    return this.get('/overview', { period, environment });
  }

  async getEnvironments() {
    // The overview names them whichever environment it is asked for: asked as the dashboard asks it by default, the
    // two share one request while it is on its way.
    const overview = await this.getOverview('last_30d');
    return { environments: overview.environments ?? [], production: overview.productionEnvironment };
  }

  getDora(groupBy: string, window: KpiWindow, environment?: string, filter?: ReportFilter, choices?: DoraChoices) {
    return this.getAll('/kpis/dora', { groupBy, ...window, environment, ...filter, ...choices });
  }

  getSlo(groupBy: string, window: KpiWindow, environment?: string, filter?: ReportFilter) {
    return this.getAll('/kpis/slo', { groupBy, ...window, environment, ...filter });
  }

  getIncidentsReport(groupBy: string, window: KpiWindow, environment?: string) {
    return this.getAll('/kpis/incidents', { groupBy, ...window, environment });
  }

  getChangesReport(groupBy: string, window: KpiWindow, environment?: string) {
    return this.getAll('/kpis/changes', { groupBy, ...window, environment });
  }

  getTopRisks(limit: number, filter?: ReportFilter, environment?: string) {
    return this.get('/risk/top', { limit, environment, ...filter });
  }

  /**
   * A list route's items over all its pages, following `page.nextCursor`, with the first page's envelope. Its
   * `page.nextCursor` is still set when MAX_PAGES pages did not reach the end.
   */
  private async getAll(path: string, query: Query): Promise<any> {
    for (let restarts = 0; ; restarts++) {
      try {
        // Read again, the first page is asked of the API itself: the browser may keep the previous build's a minute
        // (the API's Cache-Control), whose cursor would be refused again.
        return await this.readPages(path, query, restarts > 0);
      } catch (error: any) {
        if (error?.statusCode !== 409 || restarts >= MAX_RESTARTS) throw error;
      }
    }
  }

  private async readPages(path: string, query: Query, fresh: boolean): Promise<any> {
    const first = await this.get(path, { ...query, limit: PAGE_SIZE }, fresh);
    // The first page unchanged (a 304), so are the others: the API's ETag names the copy every page is read from.
    const read = this.lists.get(first);
    if (read) return read;
    const items = [...(first.items ?? [])];
    let page = first.page;
    const followed = new Set<string>();
    for (let pages = 1; page?.nextCursor && pages < MAX_PAGES; pages++) {
      // The API never gives a cursor twice in one list: something in front of it answers the same page whatever is
      // asked (a proxy or cache dropping the query string), and reading on would repeat that page.
      if (followed.has(page.nextCursor)) {
        throw new Error(
          `${path} gave the same next-page cursor twice: something between Backstage and the monitoring API (a proxy ` +
            'or cache ignoring the query string?) answers the same page whatever is asked',
        );
      }
      followed.add(page.nextCursor);
      const next = await this.get(path, { ...query, limit: PAGE_SIZE, cursor: page.nextCursor });
      items.push(...(next.items ?? []));
      page = next.page;
    }
    const list = { ...first, items, page };
    this.lists.set(first, list);
    return list;
  }

  /** `fresh`: asked of the API itself, not answered from the browser's cache. */
  private async get(path: string, query: Query = {}, fresh = false): Promise<any> {
    const base = await this.discoveryApi.getBaseUrl('proxy');
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString();
    const url = `${base}${this.proxyPath}/monitoring${path}${search ? `?${search}` : ''}`;
    const key = fresh ? `fresh ${url}` : url;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    // Shared only while on its way: asked again once answered (a refresh), it is fetched again.
    const request = this.fetchJson(url, fresh).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, request);
    return request;
  }

  private async fetchJson(url: string, fresh: boolean): Promise<any> {
    const known = this.remembered.get(url);
    const response = await this.send(url, fresh, known?.etag);
    if (response.status === 304 && known) {
      this.remember(url, known.etag, known.value);
      return known.value;
    }
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    // The API answers JSON only: anything else came from something in front of it (a sign-in page, a wrong target).
    const type = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    if (!/[/+]json$/i.test(type)) {
      throw new Error(
        `the proxy entry ${this.proxyPath} answered ${type || 'without a content type'}, not JSON: its target is ` +
          'not the monitoring API, or something in front of the API answered (a sign-in page?)',
      );
    }
    const value = await response.json();
    const etag = response.headers.get('etag');
    if (etag) this.remember(url, etag, value);
    return value;
  }

  /** Keeps `value` as the answer to `url` while it holds, the latest MAX_REMEMBERED answers. */
  private remember(url: string, etag: string, value: any) {
    this.remembered.delete(url);
    this.remembered.set(url, { etag, value });
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
  }

  /**
   * The answer to `url`. A request that got none rejects with the browser's own words ("Failed to fetch", "Load
   * failed"), which name neither the proxy entry nor what to check: it says both. `etag`: the answer held, asked for
   * again with If-None-Match.
   */
  private async send(url: string, fresh: boolean, etag?: string): Promise<Response> {
    try {
      if (etag) {
        // no-store: the 304 comes to the client, which gives back the answer it holds; the browser's cache stays out.
        const headers = { Accept: 'application/json', 'If-None-Match': etag };
        return await this.fetchApi.fetch(url, { headers, cache: 'no-store' });
      }
      // no-cache: the browser asks the API (with its ETag, a 304 when nothing changed) rather than answer itself.
      const cache: RequestCache = fresh ? 'no-cache' : 'default';
      return await this.fetchApi.fetch(url, { headers: { Accept: 'application/json' }, cache });
    } catch (error: any) {
      throw new Error(
        `no answer through the proxy entry ${this.proxyPath}: the network or Backstage's backend is down, or the ` +
          `browser refused the request (it said: ${error?.message ?? error})`,
        { cause: error },
      );
    }
  }
}

function entityPath(entity: MonitoredEntity): string {
  return `/${entity.level}/${encodeURIComponent(entity.id)}`;
}
