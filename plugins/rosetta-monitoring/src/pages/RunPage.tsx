import { coveredDays } from './KpiControls';
import { EnvironmentPicker, useEnvironmentParam } from './EnvironmentPicker';
import { EmptyState, TableColumn } from '@backstage/core-components';
import { NamedTable } from '../components/common/NamedTable';
import type { ChangesRow, KpiWindow, Schemas } from '../api/types';
import { useMonitoringData } from '../components/common/useMonitoringData';
import { Widget } from '../components/common/WidgetState';
import { hours, NONE, percent } from '../components/common/format';
import { backlogOf, BacklogRow, heatmapOf, knownOn, noneOpenedOnADayRead } from './runFigures';
import { NO_TOOLBAR } from '../components/common/tableOptions';
import { CHANGE_SOURCES, INCIDENT_SOURCES } from '../components/common/sources';


/** The run view's period: the heatmap's days and the incidents counted. */
const WINDOW: KpiWindow = { period: 'last_30d' };

function figure(title: string, field: 'open' | 'openP1P2' | 'opened'): TableColumn<BacklogRow> {
  // Null when none of the period's days was read from ServiceNow: unknown, which an empty cell would not say.
  return { title, field, type: 'numeric', render: r => r[field] ?? NONE };
}

/** Why a row's SLA breaches are unknown beside its other counts (the API's slaBreaches null). */
const SLAS_NOT_READ =
  "unknown: ServiceNow's task SLAs were not read for the period's days, or since when the lake read them is " +
  'unknown (a lake an older release wrote)';

/**
 * SLA breaches. Unknown beside known counts, they say so as other unknown figures do ("– (not read)"), and why; a row
 * none of whose days was read has every figure "–", these too.
 */
function slaBreaches(r: BacklogRow) {
  if (r.slaBreaches !== null) return r.slaBreaches;
  if (r.opened === null) return NONE;
  return (
    <span title={SLAS_NOT_READ} aria-label={`SLA breaches ${SLAS_NOT_READ}`}>
      {NONE} (not read)
    </span>
  );
}

const FIGURES: TableColumn<BacklogRow>[] = [
  figure('Open', 'open'),
  figure('Open P1/P2', 'openP1P2'),
  { title: 'SLA breaches', field: 'slaBreaches', type: 'numeric', render: slaBreaches },
  figure('Incidents (30 days)', 'opened'),
  { title: 'Mean time to restore', field: 'mttrMeanHours', type: 'numeric', render: r => hours(r.mttrMeanHours) },
  { title: 'Median time to restore', field: 'mttrMedianHours', type: 'numeric', render: r => hours(r.mttrMedianHours) },
];
const APP_COLUMNS: TableColumn<BacklogRow>[] = [
  { title: 'Application', field: 'name' },
  { title: 'Team', field: 'team' },
  ...FIGURES,
];
const TEAM_COLUMNS: TableColumn<BacklogRow>[] = [
  { title: 'Team', field: 'id' },
  { title: 'Applications', field: 'applications', type: 'numeric' },
  ...FIGURES,
];

function changeFigure(title: string, field: keyof ChangesRow): TableColumn<ChangesRow> {
  // Null when none of the period's days was read from ServiceNow, as the backlog's figures.
  return { title, field, type: 'numeric', render: r => r[field] ?? NONE };
}

const CHANGE_COLUMNS: TableColumn<ChangesRow>[] = [
  { title: 'Team', field: 'id' },
  changeFigure('Planned', 'planned'),
  changeFigure('Emergency', 'emergency'),
  changeFigure('Implemented', 'implemented'),
  changeFigure('Unsuccessful', 'unsuccessful'),
  // Closed unsuccessful, or with a close code the instance added and the lake counts as failed (rolled back, say, when
  // ROSETTA_FAILED_CLOSE_CODES lists it): the change failure rate's numerator.
  changeFigure('Failed', 'failed'),
  // Closed with a close code the instance added and no one counts as failed: the change failure rate leaves them out,
  // so the rate is failed over the implemented changes less these.
  changeFigure('Other close code', 'otherCloseCode'),
  {
    title: 'Change failure rate',
    field: 'changeFailureRate',
    type: 'numeric',
    render: r => percent(r.changeFailureRate, 1),
  },
  changeFigure('Canceled', 'canceled'),
];

function shade(n: number, max: number): string {
  if (n === 0) return 'transparent';
  return `rgba(198, 40, 40, ${0.2 + (0.8 * n) / Math.max(1, max)})`;
}

/**
 * A day's column of the heatmap or the calendar: month and day in sight, where the columns are narrow, and the full
 * date heard, as "11-26" alone says neither the year nor that it is a date.
 */
function DayHeader({ day }: { day: string }) {
  return (
    <th scope="col" aria-label={day} style={{ fontSize: 10, padding: 2 }}>
      {day.slice(5)}
    </th>
  );
}

/** A day of the heatmap or the calendar without figures (before the lake read the source): unknown, not none. */
function NoDataCell({ day }: { day: string }) {
  return (
    <td title={`${day}: no data`} aria-label="no data" style={{ width: 24, height: 20, textAlign: 'center', border: '1px solid #eee', color: '#888' }}>
      {NONE}
    </td>
  );
}

function changeShade(implemented: number, failed: number): string {
  if (failed > 0) return 'rgba(198, 40, 40, 0.6)';
  return implemented > 0 ? 'rgba(25, 118, 210, 0.35)' : 'transparent';
}

/**
 * A day of the change calendar. Its shade tells a failed day (red) from one of implemented changes (blue); the "!" and
 * the cell's name say it too, for a reader who cannot tell the colours apart or hears the cell.
 */
function ChangeDayCell(d: Schemas['ChangeDay'] & { implemented: number }) {
  // Failed as the change failure rate counts it: unsuccessful, and the close codes the lake lists as failed.
  const failed = d.failed ?? 0;
  const said = `${d.day}: ${d.planned} planned, ${d.implemented} implemented, ${failed} failed, ${d.emergency} emergency`;
  return (
    <td
      title={said}
      aria-label={said}
      style={{ background: changeShade(d.implemented, failed), width: 24, height: 20, textAlign: 'center', border: '1px solid #eee' }}
    >
      {d.implemented || ''}
      {failed > 0 && <strong>!</strong>}
    </td>
  );
}

/**
 * Run view: incident backlog by application and team, SLA breaches, incident heatmap, and the change calendar with
 * the change failure rate by team. One incidents report by application (every page of it) feeds the backlog and
 * the heatmap; one by team feeds the team table; the changes report by team feeds the changes table and calendar.
 */
export function RunPage() {
  const [environment, setEnvironment] = useEnvironmentParam();
  const apps = useMonitoringData(
    api => api.getIncidentsReport('app', WINDOW, environment),
    ['incidents report', 'app', WINDOW, environment],
  );
  const teams = useMonitoringData(
    api => api.getIncidentsReport('team', WINDOW, environment),
    ['incidents report', 'team', WINDOW, environment],
  );
  const changes = useMonitoringData(
    api => api.getChangesReport('team', WINDOW, environment),
    ['changes report', 'team', WINDOW, environment],
  );
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <EnvironmentPicker environment={environment} onChange={setEnvironment} />
      <Widget page="estate" title="Incident backlog by application" what="applications" state={apps} isEmpty={r => r.items.length === 0} freshness={r => r.freshness} sources={INCIDENT_SOURCES}>
        {r => (
          <>
            <p>
              {coveredDays(r.period)}, environment {r.environment}; the backlog at the last build's hour
            </p>
            <NamedTable<BacklogRow>
              name="Incident backlog by application"
              options={NO_TOOLBAR}
              columns={APP_COLUMNS}
              data={backlogOf(r.items)}
            />
          </>
        )}
      </Widget>
      <Widget page="estate" title="Incident backlog by team" what="teams" state={teams} isEmpty={r => r.items.length === 0} freshness={r => r.freshness} sources={INCIDENT_SOURCES}>
        {r => (
          <NamedTable<BacklogRow>
            name="Incident backlog by team"
            options={NO_TOOLBAR}
            columns={TEAM_COLUMNS}
            data={backlogOf(r.items)}
          />
        )}
      </Widget>
      <Widget page="estate" title="Incident heatmap (opened per day)" what="incidents" state={apps} isEmpty={noneOpenedOnADayRead} freshness={r => r.freshness} sources={INCIDENT_SOURCES}>
        {r => {
          // No day read from ServiceNow: every row's count is unknown, and a grid without rows would read as none.
          if (r.items.every(row => row.opened === null || row.opened === undefined)) {
            return (
              <EmptyState
                missing="data"
                title="Incidents opened unknown"
                description="No day of the period was read from ServiceNow: the incidents opened are unknown, not none."
              />
            );
          }
          const map = heatmapOf(r.items);
          // None opened on the days read, some days unknown: neither a grid without rows nor "no incidents".
          if (!map.rows.length) {
            const unknown = map.days.filter(day => r.items.some(row => !knownOn(row, day))).length;
            return (
              <EmptyState
                missing="data"
                title="No incident opened on the days read"
                description={`None opened on the ${map.days.length - unknown} days read from ServiceNow; the other ${unknown} are unknown, not none (before the lake first read ServiceNow, or after how far it had read it).`}
              />
            );
          }
          const max = Math.max(0, ...map.rows.flatMap(row => row.counts.map(n => n ?? 0)));
          return (
            <table aria-label="incident heatmap" style={{ borderCollapse: 'collapse' }}>
              <thead>
                <tr>
                  <th scope="col" style={{ textAlign: 'left' }}>Application</th>
                  {map.days.map(d => (
                    <DayHeader key={d} day={d} />
                  ))}
                </tr>
              </thead>
              <tbody>
                {map.rows.map(row => (
                  <tr key={row.app}>
                    <th scope="row" style={{ textAlign: 'left', paddingRight: 8 }}>{row.name}</th>
                    {row.counts.map((n, i) =>
                      n === null ? (
                        <NoDataCell key={map.days[i]} day={map.days[i]} />
                      ) : (
                        <td key={map.days[i]} title={`${map.days[i]}: ${n}`} aria-label={n ? undefined : '0'} style={{ background: shade(n, max), width: 24, height: 20, textAlign: 'center', border: '1px solid #eee' }}>
                          {n || ''}
                        </td>
                      ),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Widget>
      <Widget page="estate" title="Changes by team (30 days)" what="changes" state={changes} isEmpty={r => r.items.length === 0} freshness={r => r.freshness} sources={CHANGE_SOURCES}>
        {r => (
          <>
            <NamedTable<ChangesRow>
              name="Changes by team"
              options={NO_TOOLBAR}
              columns={CHANGE_COLUMNS}
              data={r.items.map(row => ({ ...row }))}
            />
            <table aria-label="change calendar" style={{ borderCollapse: 'collapse', marginTop: 16 }}>
              <thead>
                <tr>
                  <th scope="col" style={{ textAlign: 'left' }}>Team</th>
                  {(r.items[0]?.days ?? []).map(d => (
                    <DayHeader key={d.day} day={d.day} />
                  ))}
                </tr>
              </thead>
              <tbody>
                {r.items.map(row => (
                  <tr key={row.id}>
                    <th scope="row" style={{ textAlign: 'left', paddingRight: 8 }}>{row.id}</th>
                    {row.days.map(d =>
                      // A day before the lake first read ServiceNow's changes: unknown, as in the heatmap.
                      d.implemented === null || d.implemented === undefined ? (
                        <NoDataCell key={d.day} day={d.day} />
                      ) : (
                        <ChangeDayCell key={d.day} {...d} implemented={d.implemented} />
                      ),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
            <p style={{ fontSize: 12 }}>
              Changes implemented per day; ! a change failed that day (closed unsuccessful, or with a close code counted as failed).
            </p>
          </>
        )}
      </Widget>
    </div>
  );
}
