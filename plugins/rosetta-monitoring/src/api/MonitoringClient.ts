import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import type { MonitoringApi } from './MonitoringApi';
import type { KpiWindow, MonitoredEntity } from './types';

export const DEFAULT_PROXY_PATH = '/rosetta';

type Query = Record<string, string | number | undefined>;

/**
 * Calls the monitoring API through the Backstage proxy. The proxy entry adds the
 * API key, so no credential of the monitoring API ever reaches the browser.
 */
export class MonitoringClient implements MonitoringApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;
  private readonly proxyPath: string;

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
    return this.get(`${entityPath(entity)}/incidents`, { status, period, limit: 100, environment: entity.environment });
  }

  getChanges(entity: MonitoredEntity, status: string, period: string) {
    return this.get(`${entityPath(entity)}/changes`, { status, period, limit: 100, environment: entity.environment });
  }

  getDeployments(entity: MonitoredEntity, mode: string, period: string) {
    return this.get(`${entityPath(entity)}/deployments`, {
      mode,
      period: mode === 'live' ? undefined : period,
      limit: 100,
      environment: entity.environment,
    });
  }

  getLogsLink(entity: MonitoredEntity) {
    return this.get(`${entityPath(entity)}/logs/link`, { environment: entity.environment });
  }

  getOverview(period: string) {
    return this.get('/overview', { period });
  }

  getDora(groupBy: string, window: KpiWindow, environment?: string) {
    return this.get('/kpis/dora', { groupBy, ...window, environment });
  }

  getSlo(groupBy: string, period: string) {
    return this.get('/kpis/slo', { groupBy, period });
  }

  getTopRisks(limit: number) {
    return this.get('/risk/top', { limit });
  }

  private async get(path: string, query: Query = {}): Promise<any> {
    const base = await this.discoveryApi.getBaseUrl('proxy');
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString();
    const url = `${base}${this.proxyPath}/monitoring${path}${search ? `?${search}` : ''}`;
    const response = await this.fetchApi.fetch(url, { headers: { Accept: 'application/json' } });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return response.json();
  }
}

function entityPath(entity: MonitoredEntity): string {
  return `/${entity.level}/${encodeURIComponent(entity.id)}`;
}
