
import { Link } from '@backstage/core-components';
import type { MonitoredEntity, Period } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { Widget } from './common/WidgetState';
import { useMonitoringOptions } from '../options';
import { webAddress } from './common/webAddress';

/**
 * Rebases the API's Kibana link, `{kibana}[/s/{space}]/app/discover#...`, on the configured Kibana base URL: the
 * base takes the place of the API's Kibana URL, base path included; the space, Discover and its state are kept.
 * Undefined for a link that is not a web address (http or https), which the card does not make a link.
 */
export function kibanaUrl(url: string, kibanaBaseUrl?: string): string | undefined {
  if (!webAddress(url)) return undefined; // never made a link, rebased or not
  if (!kibanaBaseUrl) return url;
  const parsed = new URL(url);
  const app = parsed.pathname.search(/(\/s\/[^/]+)?\/app\//);
  const path = app >= 0 ? parsed.pathname.slice(app) : parsed.pathname;
  return `${kibanaBaseUrl.replace(/\/$/, '')}${path}${parsed.search}${parsed.hash}`;
}

function KibanaLink({ url }: { url: string | undefined }) {
  if (!url) return <>The API's Kibana link is not a web address; open Discover by hand</>;
  return <Link to={url}>Open the logs in Kibana</Link>;
}

/** The Kibana Discover link pre-filtered on the entity, over the chosen period. */
export function LogsLinkCard({ entity, period }: { entity: MonitoredEntity; period: Period }) {
  const { kibanaBaseUrl } = useMonitoringOptions();
  const state = useMonitoringData(
    api => api.getLogsLink(entity, period),
    ['logs link', entity.level, entity.id, entity.environment, period],
  );
  return (
    <Widget title="Logs" what="logs link" state={state} isEmpty={l => !l.url}>
      {link => (
        <>
          <p>
            <KibanaLink url={kibanaUrl(link.url, kibanaBaseUrl)} /> ({link.indexPattern}: <code>{link.query}</code>,{' '}
            {link.timeFrom} → {link.timeTo})
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
