import { useMonitoringData } from '../components/common/useMonitoringData';
import { Widget } from '../components/common/WidgetState';
import { DoraTable } from '../components/DoraLevels';
import { useEnvironmentParam } from './EnvironmentPicker';
import { coveredDays, KpiControls, useGroupByParam, useWindowParam } from './KpiControls';

/** SRE/DORA view: the four keys with their performance level, grouped as chosen, over a named period or a range. */
export function DoraPage() {
  const [groupBy, setGroupBy] = useGroupByParam('app');
  const [window, setWindow] = useWindowParam();
  const [environment, setEnvironment] = useEnvironmentParam();
  const state = useMonitoringData(
    api => api.getDora(groupBy, window, environment),
    ['dora', groupBy, window, environment],
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
      <Widget page="estate" title="DORA" what="DORA figures" state={state} isEmpty={d => d.items.length === 0} freshness={d => d.freshness}>
        {d => (
          <>
            <p>
              {coveredDays(d.period)}, bands {d.bandSet}, {d.mode} correlation, environment {d.environment}
            </p>
            <DoraTable rows={d.items} groupBy={d.groupBy} periodStart={d.period.start} />
          </>
        )}
      </Widget>
    </div>
  );
}
