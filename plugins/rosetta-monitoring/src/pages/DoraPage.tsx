import { useState } from 'react';
import { Select } from '@backstage/core-components';
import type { GroupBy, Period } from '../api/types';
import { useMonitoringData } from '../components/common/useMonitoringData';
import { Widget } from '../components/common/WidgetState';
import { DoraTable } from '../components/DoraLevels';

const GROUPS = [
  { label: 'Application', value: 'app' },
  { label: 'Team', value: 'team' },
  { label: 'Group', value: 'group' },
  { label: 'Domain', value: 'domain' },
];
const PERIODS = [
  { label: 'Last 7 days', value: 'last_7d' },
  { label: 'Last 30 days', value: 'last_30d' },
  { label: 'Last 90 days', value: 'last_90d' },
];

/** SRE/DORA view: the four keys with their performance level, grouped as chosen. */
export function DoraPage() {
  const [groupBy, setGroupBy] = useState<GroupBy>('app');
  const [period, setPeriod] = useState<Period>('last_30d');
  const state = useMonitoringData(api => api.getDora(groupBy, period), [groupBy, period]);
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <div style={{ display: 'flex', gap: 16 }}>
        <Select label="Group by" items={GROUPS} selected={groupBy} onChange={v => setGroupBy(v as GroupBy)} />
        <Select label="Period" items={PERIODS} selected={period} onChange={v => setPeriod(v as Period)} />
      </div>
      <Widget title="DORA" what="DORA figures" state={state} isEmpty={d => d.items.length === 0} freshness={d => d.freshness}>
        {d => (
          <>
            <p>
              Bands {d.bandSet}, {d.mode} correlation, environment {d.environment}
            </p>
            <DoraTable rows={d.items} />
          </>
        )}
      </Widget>
    </div>
  );
}
