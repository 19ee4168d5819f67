
import { EmptyState } from '@backstage/core-components';
import { Meter } from './common/StatusDot';
import type { MonitoredEntity, Summary } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { Widget } from './common/WidgetState';
import { availability, budgetLeft, burnRate, periodLabel, target } from './common/format';
import { coveredDays } from '../pages/KpiControls';
import { coverage, judged } from './SloTable';

const isComponent = (summary: Summary) => summary.entity.kind === 'component';

/** SLO target against achieved availability, error budget remaining and burn rate. */
export function SloCard({ entity }: { entity: MonitoredEntity }) {
  const state = useMonitoringData(api => api.getSummary(entity), [entity.level, entity.id, entity.environment]);
  return (
    <Widget
      title="SLO"
      what="SLO"
      state={state}
      isEmpty={s => !s.slo && !isComponent(s)}
      freshness={s => s.freshness}
    >
      {summary => {
        const slo = summary.slo;
        if (!slo) {
          // The API judges SLOs per application only: a component's summary never has one.
          return (
            <EmptyState
              missing="info"
              title="SLOs are set per application"
              description={`This component belongs to the application ${summary.entity.applicationId}: its SLO is on the application's page.`}
            />
          );
        }
        return (
          <div>
            <dl style={{ display: 'grid', gridTemplateColumns: 'auto auto', gap: 4 }}>
              <dt>Availability target</dt>
              <dd>{target(slo.availabilityTarget)}</dd>
              <dt>
                Achieved ({periodLabel(slo.period).toLowerCase()}
                {slo.periodStart && slo.periodEnd && `, ${coveredDays({ name: slo.period, start: slo.periodStart, end: slo.periodEnd })}`})
              </dt>
              <dd>{judged(availability(slo.availability), slo.availabilityStatus)}</dd>
              {/* Under the build's minimum the availability is 'insufficient data': the share measured says why. */}
              <dt>Hours measured</dt>
              <dd>{coverage(slo.coverage)}</dd>
              <dt>Error budget remaining</dt>
              <dd>{budgetLeft(slo.errorBudgetRemaining)}</dd>
              <dt>Burn rate (period / 1 h)</dt>
              <dd>
                {burnRate(slo.burnRatePeriod)} / {burnRate(slo.burnRate1H)}
              </dd>
              <dt>Burn-rate alert</dt>
              <dd>{slo.burnRateAlert ?? '–'}</dd>
            </dl>
            {typeof slo.errorBudgetRemaining === 'number' && (
              <Meter ratio={slo.errorBudgetRemaining} label="error budget remaining" />
            )}
          </div>
        );
      }}
    </Widget>
  );
}
