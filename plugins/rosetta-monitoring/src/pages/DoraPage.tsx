import { useMonitoringData } from '../components/common/useMonitoringData';
import { Widget } from '../components/common/WidgetState';
import { LabelledSelect } from '../components/common/LabelledSelect';
import { bandsAndMode, DoraTable } from '../components/DoraLevels';
import type { BandSet, DoraChoices, DoraMode } from '../api/types';
import { useEnvironmentParam } from './EnvironmentPicker';
import { coveredDays, KpiControls, useGroupByParam, useWindowParam, WIDER_GROUPING } from './KpiControls';
import { useChoiceParam } from './queryParams';

const MODES: { label: string; value: DoraMode }[] = [
  { label: 'Full', value: 'full' },
  { label: 'Light', value: 'light' },
];
const BAND_SETS: { label: string; value: BandSet }[] = [
  { label: '2023', value: '2023' },
  { label: '2024', value: '2024' },
];
const MODE_VALUES = MODES.map(m => m.value);
const BAND_SET_VALUES = BAND_SETS.map(b => b.value);
/** The API's defaults: left out of the URL and of the request, as the API reads them when none is sent. */
const DEFAULT_MODE: DoraMode = 'full';
const DEFAULT_BAND_SET: BandSet = '2023';

/** What the report is asked for: a choice left at the API's default is not sent. */
function asked(mode: DoraMode, bandSet: BandSet): DoraChoices {
  return {
    mode: mode === DEFAULT_MODE ? undefined : mode,
    bandSet: bandSet === DEFAULT_BAND_SET ? undefined : bandSet,
  };
}

/** SRE/DORA view: the four keys with their performance level, grouped as chosen, over a named period or a range. */
export function DoraPage() {
  const [groupBy, setGroupBy] = useGroupByParam('app');
  const [window, setWindow] = useWindowParam();
  const [environment, setEnvironment] = useEnvironmentParam();
  // The correlation mode and bands under the API's names, its defaults when the URL names none.
  const [mode, setMode] = useChoiceParam('mode', MODE_VALUES, DEFAULT_MODE);
  const [bandSet, setBandSet] = useChoiceParam('bandSet', BAND_SET_VALUES, DEFAULT_BAND_SET);
  const state = useMonitoringData(
    api => api.getDora(groupBy, window, environment, undefined, asked(mode, bandSet)),
    ['dora', groupBy, window, environment, mode, bandSet],
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
      >
        <LabelledSelect label="Correlation" items={MODES} selected={mode} onChange={v => setMode(v as DoraMode)} />
        <LabelledSelect label="Bands" items={BAND_SETS} selected={bandSet} onChange={v => setBandSet(v as BandSet)} />
      </KpiControls>
      <Widget page="estate" title="DORA" what="DORA figures" state={state} isEmpty={d => d.items.length === 0} freshness={d => d.freshness} toSeeTheRest={WIDER_GROUPING}>
        {d => (
          <>
            <p>
              {coveredDays(d.period)}, {bandsAndMode(d)}, environment {d.environment}
            </p>
            <DoraTable rows={d.items} groupBy={d.groupBy} period={d.period} />
          </>
        )}
      </Widget>
    </div>
  );
}
