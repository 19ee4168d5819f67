import { useState } from 'react';
import { DashboardPage } from './DashboardPage';
import { DoraPage } from './DoraPage';
import { RunPage } from './RunPage';
import { SloPage } from './SloPage';

const VIEWS = [
  { id: 'dashboard', label: 'Dashboard', view: DashboardPage },
  { id: 'dora', label: 'SRE / DORA', view: DoraPage },
  { id: 'slo', label: 'SLO', view: SloPage },
  { id: 'run', label: 'Run', view: RunPage },
];

/** The plugin's page: the global dashboard, the SRE/DORA view, the SLO view and the run view. */
export function MonitoringPage() {
  const [current, setCurrent] = useState('dashboard');
  const View = VIEWS.find(v => v.id === current)!.view;
  return (
    <div style={{ padding: 24, display: 'grid', gap: 16 }}>
      <nav role="tablist" style={{ display: 'flex', gap: 8 }}>
        {VIEWS.map(v => (
          <button
            key={v.id}
            role="tab"
            aria-selected={v.id === current}
            onClick={() => setCurrent(v.id)}
            style={{ padding: '6px 12px', fontWeight: v.id === current ? 'bold' : 'normal' }}
          >
            {v.label}
          </button>
        ))}
      </nav>
      <View />
    </div>
  );
}
