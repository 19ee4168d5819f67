
import type { MonitoredEntity, Period } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { Widget } from './common/WidgetState';
import { DoraTable } from './DoraLevels';

/** DORA of the entity's application (the API reports DORA per application and per group). */
export function EntityDoraCard({ entity, period }: { entity: MonitoredEntity; period: Period }) {
  const state = useMonitoringData(
    async api => {
      const summary = await api.getSummary(entity);
      const report = await api.getDora('app', { period: period === 'last_24h' ? 'last_7d' : period }, entity.environment);
      return { report, rows: report.items.filter(r => r.id === summary.entity.applicationId) };
    },
    [entity.level, entity.id, entity.environment, period],
  );
  return (
    <Widget title="DORA" what="DORA figures" state={state} isEmpty={d => d.rows.length === 0} freshness={d => d.report.freshness}>
      {d => <DoraTable rows={d.rows} />}
    </Widget>
  );
}
