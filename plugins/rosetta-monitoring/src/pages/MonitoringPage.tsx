import { HeaderTabs } from '@backstage/core-components';
import { DashboardPage } from './DashboardPage';
import { DoraPage } from './DoraPage';
import { ENVIRONMENT_PARAM } from './EnvironmentPicker';
import { useQuery } from './queryParams';
import { RunPage } from './RunPage';
import { SloPage } from './SloPage';

const VIEWS = [
  { id: 'dashboard', label: 'Dashboard', view: DashboardPage },
  { id: 'dora', label: 'SRE / DORA', view: DoraPage },
  { id: 'slo', label: 'SLO', view: SloPage },
  { id: 'run', label: 'Run', view: RunPage },
];

/** The page URL's query parameter naming the view shown, the dashboard when it names none of them. */
const VIEW_PARAM = 'view';

const tabId = (view: string) => `rosetta-monitoring-tab-${view}`;
const panelId = (view: string) => `rosetta-monitoring-panel-${view}`;

/** The tab bar's tabs, each naming the panel it shows so that a screen reader can tell which view is open. */
const TABS = VIEWS.map(v => ({ id: v.id, label: v.label, tabProps: { id: tabId(v.id), 'aria-controls': panelId(v.id) } }));

/**
 * The view shown, from the page's URL, and how to show another. The environment is the whole page's and stays; a
 * view's own choices (its period, its grouping) are left behind, as the next view has its own, with its own defaults.
 */
function useViewParam(): [number, (index: number) => void] {
  const [query, change] = useQuery();
  const current = Math.max(0, VIEWS.findIndex(v => v.id === query.get(VIEW_PARAM)));
  const show = (index: number) => {
    const left = [...query.keys()].filter(name => name !== ENVIRONMENT_PARAM).map(name => [name, undefined]);
    change({ ...Object.fromEntries(left), [VIEW_PARAM]: index ? VIEWS[index].id : undefined });
  };
  return [current, show];
}

/** The plugin's page: the global dashboard, the SRE/DORA view, the SLO view and the run view. */
export function MonitoringPage() {
  const [current, setCurrent] = useViewParam();
  return (
    <div style={{ padding: 24, display: 'grid', gap: 16 }}>
      {/* Wrapped: the tab bar places itself in a Backstage page's "pageSubheader" grid area, which this grid lacks. */}
      <div>
        <HeaderTabs tabs={TABS} selectedIndex={current} onChange={setCurrent} />
      </div>
      {/* Every tab's panel is there for its aria-controls; only the shown one holds its view, so only it calls the API. */}
      {VIEWS.map(({ id, view: View }, index) => (
        <div key={id} role="tabpanel" id={panelId(id)} aria-labelledby={tabId(id)} hidden={index !== current}>
          {index === current && <View />}
        </div>
      ))}
    </div>
  );
}
