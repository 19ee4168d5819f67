import type { Period } from '../api/types';
import { useChoiceParam } from '../pages/queryParams';
import { useMonitoredEntity } from './common/EntityContext';
import { ENTITY_PERIODS, PeriodPicker } from './PeriodPicker';
import { GoldenSignalsCard } from './GoldenSignalsCard';
import { SloCard } from './SloCard';
import { IncidentsCard } from './IncidentsCard';
import { ChangesCard } from './ChangesCard';
import { DeploymentsCard } from './DeploymentsCard';
import { LogsLinkCard } from './LogsLinkCard';
import { EntityDoraCard } from './EntityDoraCard';
import { HealthCard } from './HealthCard';

/** The entity's "Monitoring" tab. Its period is kept in the URL, as the estate pages keep theirs: a link to the tab
 * sent during an incident review opens on the period it was read over. */
export function MonitoringTab() {
  const entity = useMonitoredEntity();
  const [period, setPeriod] = useChoiceParam<Period>('period', ENTITY_PERIODS, 'last_7d');
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <PeriodPicker period={period} onChange={setPeriod} />
      {/* The rosetta.io/environment annotation picks the environment every widget asks for: say it, as staging's
          figures look like production's. Without it the API answers for the estate's production environment. */}
      <p data-testid="monitoring-environment">
        Environment:{' '}
        <strong>{entity.environment ?? "the estate's production environment (the monitoring API's default)"}</strong>
      </p>
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(360px, 1fr))', gap: 16 }}>
        <HealthCard />
        <SloCard entity={entity} />
        <LogsLinkCard entity={entity} period={period} />
      </div>
      <GoldenSignalsCard entity={entity} period={period} />
      <DeploymentsCard entity={entity} period={period} />
      <IncidentsCard entity={entity} period={period} />
      <ChangesCard entity={entity} period={period} />
      <EntityDoraCard entity={entity} period={period} />
    </div>
  );
}
