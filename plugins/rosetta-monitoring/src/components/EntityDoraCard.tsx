import type { KpiPeriod, MonitoredEntity, Period } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { Widget } from './common/WidgetState';
import { bandsAndMode, DoraTable } from './DoraLevels';
import { LeadTimeRequests } from './LeadTimeRequests';
import { coveredDays } from '../pages/KpiControls';

/** DORA is built for 7 days and more: the tab's 24 hours shows the last 7 days' figures. */
const DORA_PERIODS: Record<Period, { period: KpiPeriod; label: string; note?: string }> = {
  last_24h: { period: 'last_7d', label: 'last 7 days', note: ' (DORA is not computed over 24 hours)' },
  last_7d: { period: 'last_7d', label: 'last 7 days' },
  last_30d: { period: 'last_30d', label: 'last 30 days' },
  last_90d: { period: 'last_90d', label: 'last 90 days' },
};

/** DORA of the entity's application (the API reports DORA per application and per group): its own row alone. */
export function EntityDoraCard({ entity, period }: { entity: MonitoredEntity; period: Period }) {
  const dora = DORA_PERIODS[period];
  const state = useMonitoringData(
    async api => {
      const summary = await api.getSummary(entity);
      const app = summary.entity.applicationId;
      const report = await api.getDora('app', { period: dora.period }, entity.environment, { app });
      return { app, report, rows: report.items.filter(r => r.id === app) };
    },
    ['DORA row of the application', entity.level, entity.id, entity.environment, dora.period],
  );
  return (
    <Widget
      title="DORA"
      what="DORA figures"
      state={state}
      isEmpty={d => d.rows.length === 0}
      freshness={d => d.report.freshness}
    >
      {d => (
        <>
          <p>
            DORA over the {dora.label}: {coveredDays(d.report.period)}
            {dora.note}, {bandsAndMode(d.report)}
          </p>
          <DoraTable rows={d.rows} groupBy={d.report.groupBy} period={d.report.period} />
          {/* The application's requests, as its lead time above is taken over them, on a component's page too. */}
          <LeadTimeRequests application={d.app} environment={entity.environment} period={dora.period} />
        </>
      )}
    </Widget>
  );
}
