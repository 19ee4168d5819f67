
import { EmptyState, TableColumn } from '@backstage/core-components';
import { NamedTable } from '../components/common/NamedTable';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { HealthLevel, Overview } from '../api/types';
import { useMonitoringData } from '../components/common/useMonitoringData';
import { Announced, Widget } from '../components/common/WidgetState';
import { bandsAndMode, DoraTable } from '../components/DoraLevels';
import { count, percent } from '../components/common/format';
import { RiskTable } from '../components/RiskTable';
import { NO_TOOLBAR } from '../components/common/tableOptions';
import { EnvironmentPicker, useEnvironmentParam } from './EnvironmentPicker';
import { HEALTH_SOURCES } from '../components/common/sources';

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

/** The trend's day-by-day counts, as its chart's name says them. */
const COUNTS = { deployments: 'deployments', incidentsOpened: 'incidents opened' } as const;
type Count = keyof typeof COUNTS;

/** What a count adds up to over the days it is known; unknown, not 0, when no day is (its source not read then). */
function countTotal(trend: TrendDay[], key: Count): string {
  const known = trend.map(d => d[key]).filter((v): v is number => typeof v === 'number');
  return known.length ? `${known.reduce((a, b) => a + b, 0)} ${COUNTS[key]}` : `${COUNTS[key]} unknown`;
}

/** How many days a count is unknown on, when some are ('' when none is, or all are: its total says so). */
function unknownDays(trend: TrendDay[], key: Count): string {
  const unknown = trend.filter(d => typeof d[key] !== 'number').length;
  return unknown > 0 && unknown < trend.length ? `${unknown} of ${trend.length} days unknown` : '';
}

/**
 * The counts' totals with the days each is unknown on: a day its source was not read is no day without any, and a
 * total over the others is not the whole period's. Said once when both counts miss as many days.
 */
function trendTotals(trend: TrendDay[]): string {
  const keys: Count[] = ['deployments', 'incidentsOpened'];
  const totals = keys.map(key => countTotal(trend, key));
  const unknown = keys.map(key => unknownDays(trend, key));
  if (unknown[0] === unknown[1]) return [...totals, ...(unknown[0] ? [unknown[0]] : [])].join(', ');
  return totals.map((total, i) => (unknown[i] ? `${total} (${unknown[i]})` : total)).join(', ');
}

/** The day of the highest error rate, which a reader of the chart looks for first. */
function highestErrorRate(trend: TrendDay[]): string {
  const measured = trend.filter(d => typeof d.errorRate === 'number');
  if (!measured.length) return 'no data';
  const worst = measured.reduce((a, b) => (b.errorRate! > a.errorRate! ? b : a));
  return `highest ${percent(worst.errorRate, 3)} on ${worst.day}`;
}

/**
 * Whether the overview's health and top risks are the environment's: the API judges them in production alone, and
 * answers production's whichever environment the overview is asked for. The environment is the one the overview
 * names, not the URL's: the API reads a name in any case (`Production` in a link is production).
 */
const judgedIn = (o: Overview) => o.environment === o.productionEnvironment;

/** Said in place of production's health and risks on another environment's dashboard, rather than passing them as its. */
function JudgedInProductionOnly({ o, what }: { o: Overview; what: string }) {
  const production = o.productionEnvironment ?? "the estate's production environment";
  return (
    <Announced>
      <EmptyState
        missing="info"
        title={`${what} judged in ${production} only`}
        description={`The monitoring API judges the health and risk of applications in ${production} only, not in ${o.environment}; the trends and DORA figures below are ${o.environment}'s.`}
      />
    </Announced>
  );
}

/** The estate's health: its verdict, its applications by colour and each domain's, group's and team's. */
function HealthFigures({ o }: { o: Overview }) {
  return (
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
  );
}

/** Estate-wide dashboard: health by domain, group and team, trends, top risks, DORA per group. */
export function DashboardPage() {
  const [environment, setEnvironment] = useEnvironmentParam();
  const overview = useMonitoringData(
    api => api.getOverview('last_30d', environment),
    ['overview', 'last_30d', environment],
  );
  const dora = useMonitoringData(
    api => api.getDora('group', { period: 'last_30d' }, environment),
    ['dora', 'group', { period: 'last_30d' }, environment],
  );
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <EnvironmentPicker environment={environment} onChange={setEnvironment} />
      {/* Health and risk are the last build's verdicts over the last 7 days, whatever period the overview is asked for. */}
      <Widget page="estate" title="Health by domain, group and team (last 7 days)" what="health figures" state={overview} isEmpty={o => judgedIn(o) && o.health.length === 0} freshness={o => o.freshness} sources={HEALTH_SOURCES}>
        {o => (judgedIn(o) ? <HealthFigures o={o} /> : <JudgedInProductionOnly o={o} what="Health is" />)}
      </Widget>
      <Widget page="estate" title="Trends (30 days)" what="trend days" state={overview} isEmpty={o => o.trend.length === 0}>
        {o => (
          <>
            <p>Environment {o.environment}</p>
            <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(360px, 1fr))', gap: 16 }}>
              <ResponsiveContainer width="100%" height={200}>
                {/* Each chart is a keyboard stop (arrow keys move its tooltip): its name gives its days and figures. */}
                <BarChart
                  data={o.trend}
                  aria-label={
                    `Deployments and incidents opened per day, ${trendDays(o.trend)}: ${trendTotals(o.trend)}`
                  }
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
          </>
        )}
      </Widget>
      <Widget page="estate" title="Top risks (last 7 days)" what="risks" state={overview} isEmpty={o => judgedIn(o) && o.topRisks.length === 0}>
        {o => (judgedIn(o) ? <RiskTable rows={o.topRisks} /> : <JudgedInProductionOnly o={o} what="Risk is" />)}
      </Widget>
      <Widget page="estate" title="DORA per group (30 days)" what="DORA figures" state={dora} isEmpty={d => d.items.length === 0} freshness={d => d.freshness}>
        {d => (
          <>
            <p>Environment {d.environment}</p>
            <p>Levels: {bandsAndMode(d)}</p>
            <DoraTable rows={d.items} groupBy={d.groupBy} period={d.period} />
          </>
        )}
      </Widget>
    </div>
  );
}
