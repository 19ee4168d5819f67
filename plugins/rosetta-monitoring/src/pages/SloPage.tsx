import { useMonitoringData } from '../components/common/useMonitoringData';
import { Widget } from '../components/common/WidgetState';
import { SloTable } from '../components/SloTable';
import { useEnvironmentParam } from './EnvironmentPicker';
import { coveredDays, KpiControls, useGroupByParam, useWindowParam, WIDER_GROUPING } from './KpiControls';
import { SIGNAL_SOURCES } from '../components/common/sources';

/** SLO view: availability and latency against each application's targets, error budgets and burn rates, by team
 * (or application, group, domain), over a named period or a range. */
export function SloPage() {
  const [groupBy, setGroupBy] = useGroupByParam('team');
  const [window, setWindow] = useWindowParam();
  const [environment, setEnvironment] = useEnvironmentParam();
  const state = useMonitoringData(
    api => api.getSlo(groupBy, window, environment),
    ['slo', groupBy, window, environment],
  );
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <KpiControls
        groupBy={groupBy}
        onGroupBy={setGroupBy}
        window={window}
        onWindow={setWindow}
        environment={environment}
        onEnvironment={setEnvironment}
      />
      <Widget page="estate" title="SLOs and error budgets" what="SLO figures" state={state} isEmpty={d => d.items.length === 0} freshness={d => d.freshness} sources={SIGNAL_SOURCES} toSeeTheRest={WIDER_GROUPING}>
        {d => (
          <>
            <p>
              {coveredDays(d.period)}, environment {d.environment}; burn rates and alerts at the last build's hour
            </p>
            <SloTable rows={d.items} groupBy={d.groupBy} />
          </>
        )}
      </Widget>
    </div>
  );
}
