
import { TableColumn } from '@backstage/core-components';
import { NamedTable } from '../components/common/NamedTable';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { HealthLevel, Overview } from '../api/types';
import { useMonitoringData } from '../components/common/useMonitoringData';
import { Widget } from '../components/common/WidgetState';
import { DoraTable } from '../components/DoraLevels';
import { count, percent } from '../components/common/format';
import { RiskTable } from '../components/RiskTable';
import { NO_TOOLBAR } from '../components/common/tableOptions';

const HEALTH_COLUMNS: TableColumn<HealthLevel>[] = [
  { title: 'Level', field: 'level' },
  { title: 'Name', field: 'levelId' },
  { title: 'Health', field: 'health' },
  { title: 'Applications', field: 'applications' },
  { title: 'Red', field: 'red' },
  { title: 'Orange', field: 'orange' },
  { title: 'Green', field: 'green' },
  // Applications without traffic nor events over 14 days: with them, the colours add up to the applications.
  { title: 'No data', field: 'noData' },
  { title: 'Reasons', render: h => (h.reasons ?? []).join('; ') },
];

/**
 * How a day's figure reads in a trend's tooltip. A day without one (no traffic, so no error rate; a day before its
 * source was first read, so no count) says so: recharts leaves such a series out of the tooltip by default, and a day
 * showing its date alone reads as if it had nothing to show.
 */
const dayFigure = (format: (v: number) => string) => (v: unknown) => (typeof v === 'number' ? format(v) : 'no data');

type TrendDay = Overview['trend'][number];

/** A trend's days, first to last, as its chart's name says them. */
const trendDays = (trend: TrendDay[]) => `${trend[0].day} to ${trend[trend.length - 1].day}`;

/** What a day-by-day count adds up to; a day without one (its source not read yet) adds nothing. */
const total = (trend: TrendDay[], key: 'deployments' | 'incidentsOpened') => trend.reduce((n, d) => n + (d[key] ?? 0), 0);

/** The day of the highest error rate, which a reader of the chart looks for first. */
function highestErrorRate(trend: TrendDay[]): string {
  const measured = trend.filter(d => typeof d.errorRate === 'number');
  if (!measured.length) return 'no data';
  const worst = measured.reduce((a, b) => (b.errorRate! > a.errorRate! ? b : a));
  return `highest ${percent(worst.errorRate, 3)} on ${worst.day}`;
}

/** Estate-wide dashboard: health by domain, group and team, trends, top risks, DORA per group. */
export function DashboardPage() {
  const overview = useMonitoringData(api => api.getOverview('last_30d'), []);
  const dora = useMonitoringData(api => api.getDora('group', { period: 'last_30d' }), []);
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      {/* Health and risk are the last build's verdicts over the last 7 days, whatever period the overview is asked for. */}
      <Widget title="Health by domain, group and team (last 7 days)" what="health figures" state={overview} isEmpty={o => o.health.length === 0} freshness={o => o.freshness}>
        {o => (
          <>
            <p data-testid="estate-health">
              Estate:{' '}
              {o.estateHealth ? (
                <>
                  <strong>{o.estateHealth.health}</strong>
                  {o.estateHealth.reasons?.length ? ` (${o.estateHealth.reasons.join('; ')})` : ''}
                </>
              ) : (
                'not judged yet'
              )}
            </p>
            <p data-testid="health-totals">
              {Object.entries(o.applicationsByHealth)
                .map(([colour, n]) => `${n} ${colour}`)
                .join(', ')}
            </p>
            <NamedTable<HealthLevel> name="Health by domain, group and team" options={NO_TOOLBAR} columns={HEALTH_COLUMNS} data={o.health} />
          </>
        )}
      </Widget>
      <Widget title="Trends (30 days)" what="trend days" state={overview} isEmpty={o => o.trend.length === 0}>
        {o => (
          <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(360px, 1fr))', gap: 16 }}>
            <ResponsiveContainer width="100%" height={200}>
              {/* Each chart is a keyboard stop (arrow keys move its tooltip): its name gives its days and figures. */}
              <BarChart
                data={o.trend}
                aria-label={`Deployments and incidents opened per day, ${trendDays(o.trend)}: ${total(o.trend, 'deployments')} deployments, ${total(o.trend, 'incidentsOpened')} incidents opened`}
              >
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis allowDecimals={false} />
                <Tooltip filterNull={false} formatter={dayFigure(count)} />
                <Legend />
                <Bar dataKey="deployments" name="Deployments" fill="#1f5493" isAnimationActive={false} />
                <Bar dataKey="incidentsOpened" name="Incidents opened" fill="#c62828" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
            <ResponsiveContainer width="100%" height={200}>
              <LineChart data={o.trend} aria-label={`Error rate per day, ${trendDays(o.trend)}: ${highestErrorRate(o.trend)}`}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                {/* The API gives the error rate as a fraction; it reads in percent, as everywhere else. */}
                <YAxis width={64} tickFormatter={v => percent(v, 3)} />
                <Tooltip filterNull={false} formatter={dayFigure(v => percent(v, 3))} />
                <Legend />
                <Line dataKey="errorRate" name="Error rate" stroke="#c62828" dot={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        )}
      </Widget>
      <Widget title="Top risks (last 7 days)" what="risks" state={overview} isEmpty={o => o.topRisks.length === 0}>
        {o => <RiskTable rows={o.topRisks} />}
      </Widget>
      <Widget title="DORA per group (30 days)" what="DORA figures" state={dora} isEmpty={d => d.items.length === 0} freshness={d => d.freshness}>
        {d => <DoraTable rows={d.items} groupBy={d.groupBy} periodStart={d.period.start} />}
      </Widget>
    </div>
  );
}
