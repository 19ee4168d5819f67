
import { Link } from '@backstage/core-components';
import type { MonitoredEntity, Period } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { Widget } from './common/WidgetState';
import { useMonitoringOptions } from '../options';

/**
 * Rebases the API's Kibana link, `{kibana}[/s/{space}]/app/discover#...`, on the configured Kibana base URL: the
 * base takes the place of the API's Kibana URL, base path included; the space, Discover and its state are kept.
 */
export function kibanaUrl(url: string, kibanaBaseUrl?: string): string {
  if (!kibanaBaseUrl) return url;
  const parsed = new URL(url);
  const app = parsed.pathname.search(/(\/s\/[^/]+)?\/app\//);
  const path = app >= 0 ? parsed.pathname.slice(app) : parsed.pathname;
  return `${kibanaBaseUrl.replace(/\/$/, '')}${path}${parsed.search}${parsed.hash}`;
}

/** The Kibana Discover link pre-filtered on the entity, over the chosen period. */
export function LogsLinkCard({ entity, period }: { entity: MonitoredEntity; period: Period }) {
  const { kibanaBaseUrl } = useMonitoringOptions();
  const state = useMonitoringData(
    api => api.getLogsLink(entity, period),
    [entity.level, entity.id, entity.environment, period],
  );
  return (
    <Widget title="Logs" what="logs link" state={state} isEmpty={l => !l.url}>
      {link => (
        <>
          <p>
            <Link to={kibanaUrl(link.url, kibanaBaseUrl)}>Open the logs in Kibana</Link> ({link.indexPattern}:{' '}
            <code>{link.query}</code>, {link.timeFrom} → {link.timeTo})
          </p>
          {/* Opened on the index pattern as its data view, Discover shows the lines only if Kibana has one of that id. */}
          {link.dataViewFrom === 'index pattern' && (
            <p role="status" style={{ color: '#b06000' }}>
              No Kibana data view found for {link.indexPattern}: the link opens the index pattern itself
              {link.dataViewReason ? ` (${link.dataViewReason})` : ''}.
            </p>
          )}
        </>
      )}
    </Widget>
  );
}
