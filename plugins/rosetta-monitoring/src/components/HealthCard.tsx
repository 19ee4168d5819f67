
import { StatusDot } from './common/StatusDot';
import { useMonitoringData } from './common/useMonitoringData';
import { Widget } from './common/WidgetState';
import { useMonitoredEntity } from './common/EntityContext';
import { healthOf, whyIncidentsUnknown } from './health';
import { useMonitoringOptions } from '../options';
import { when } from './common/format';
import { HEALTH_SOURCES } from './common/sources';

const DOT = { green: 'green', orange: 'orange', red: 'red', 'no data': 'grey', unknown: 'grey' } as const;

/** Entity overview card: red/orange/green and the reasons behind it. */
export function HealthCard() {
  const entity = useMonitoredEntity();
  const { thresholds } = useMonitoringOptions();
  const state = useMonitoringData(
    api => api.getSummary(entity),
    ['summary', entity.level, entity.id, entity.environment],
  );
  return (
    <Widget title="Monitoring health" what="health" state={state} freshness={s => s.freshness} sources={HEALTH_SOURCES}>
      {summary => {
        const verdict = healthOf(summary, thresholds);
        return (
          <>
            <p>
              <StatusDot colour={DOT[verdict.colour]}>
                <strong data-testid="health-colour">{verdict.colour}</strong>
              </StatusDot>{' '}
              {summary.entity.name ?? summary.entity.id} ({summary.entity.kind}, team {summary.entity.team ?? '–'},
              environment <span data-testid="health-environment">{summary.entity.environment}</span>)
            </p>
            {/* The API's verdict weighs the last 7 days; without one, the card judges the summary's signals, of the
                last 24 hours: neither follows the tab's period, so each says what it covers. */}
            <p data-testid="health-window">
              {summary.risk?.health
                ? 'Risk over the last 7 days'
                : `Signals from ${when(summary.goldenSignals.windowStart)} to ${when(summary.goldenSignals.windowEnd)}`}
            </p>
            <ul>
              {verdict.reasons.map(reason => (
                <li key={reason}>{reason}</li>
              ))}
            </ul>
            {summary.incidents.open === null ? (
              <p>
                Open incidents: <strong data-testid="health-open-incidents">unknown</strong> (
                {whyIncidentsUnknown(summary.incidents)})
              </p>
            ) : (
              <p>
                Open incidents: <strong data-testid="health-open-incidents">{summary.incidents.open}</strong> (P1/P2:{' '}
                {summary.incidents.openP1P2}, SLA breached:{' '}
                <span data-testid="health-sla-breached">{summary.incidents.slaBreached ?? 'unknown'}</span>)
              </p>
            )}
          </>
        );
      }}
    </Widget>
  );
}
