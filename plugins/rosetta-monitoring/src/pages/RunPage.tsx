
import { Table, TableColumn } from '@backstage/core-components';
import { useMonitoringData } from '../components/common/useMonitoringData';
import { Widget } from '../components/common/WidgetState';
import { detailOf } from '../components/common/problems';
import { NONE } from '../components/common/format';
import { AppIncidents, backlogOf, BacklogRow, heatmapOf } from './runFigures';

const UNAVAILABLE = { color: '#b06000' };

/** A count column; "–" for an application whose incidents could not be read. */
function figure(title: string, field: 'open' | 'openP1P2' | 'slaBreached' | 'total'): TableColumn<BacklogRow> {
  return { title, field, render: r => r[field] ?? NONE };
}

const COLUMNS: TableColumn<BacklogRow>[] = [
  {
    title: 'Application',
    field: 'id',
    render: r => (
      <>
        {r.id}
        {r.unavailable && <div style={UNAVAILABLE}>incidents unavailable: {r.unavailable}</div>}
      </>
    ),
  },
  { title: 'Team', field: 'team' },
  figure('Open', 'open'),
  figure('Open P1/P2', 'openP1P2'),
  figure('SLA breaches', 'slaBreached'),
  figure('Incidents (30 days)', 'total'),
];

function shade(n: number, max: number): string {
  if (n === 0) return 'transparent';
  return `rgba(198, 40, 40, ${0.2 + (0.8 * n) / Math.max(1, max)})`;
}

/** Run view: incident backlog by application and team, SLA breaches, incident heatmap. */
export function RunPage() {
  const state = useMonitoringData(async api => {
    const risks = await api.getTopRisks(100);
    // An application whose incidents cannot be read is marked on its row; the others are still shown.
    const incidents = await Promise.all(
      risks.items.map(
        (app): Promise<AppIncidents> =>
          api.getIncidents({ level: 'applications', id: app.appId }, 'all', 'last_30d').then(
            l => l.items,
            error => ({ unavailable: detailOf(error) }),
          ),
      ),
    );
    return { apps: risks.items, incidents, freshness: risks.freshness };
  }, []);
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <Widget title="Incident backlog" what="applications" state={state} isEmpty={s => s.apps.length === 0} freshness={s => s.freshness}>
        {s => (
          <Table<BacklogRow>
            options={{ paging: false, search: false, padding: 'dense' }}
            columns={COLUMNS}
            data={backlogOf(s.apps, s.incidents)}
          />
        )}
      </Widget>
      <Widget title="Incident heatmap (opened per day)" what="incidents" state={state} isEmpty={s => s.incidents.every(l => Array.isArray(l) && l.length === 0)}>
        {s => {
          const map = heatmapOf(s.apps, s.incidents);
          const max = Math.max(0, ...map.rows.flatMap(r => r.counts ?? []));
          return (
            <table aria-label="incident heatmap" style={{ borderCollapse: 'collapse' }}>
              <thead>
                <tr>
                  <th />
                  {map.days.map(d => (
                    <th key={d} style={{ fontSize: 10, padding: 2 }}>{d.slice(5)}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {map.rows.map(r => (
                  <tr key={r.app}>
                    <th style={{ textAlign: 'left', paddingRight: 8 }}>{r.app}</th>
                    {r.counts ? (
                      r.counts.map((n, i) => (
                        <td key={map.days[i]} title={`${n}`} style={{ background: shade(n, max), width: 24, height: 20, textAlign: 'center', border: '1px solid #eee' }}>
                          {n || ''}
                        </td>
                      ))
                    ) : (
                      <td colSpan={Math.max(1, map.days.length)} style={UNAVAILABLE}>
                        incidents unavailable
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Widget>
    </div>
  );
}
