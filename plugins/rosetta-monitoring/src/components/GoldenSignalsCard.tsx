
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MonitoredEntity, Period, Timeseries } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { Widget } from './common/WidgetState';
import { count, ms, NONE, percent, periodLabel, when } from './common/format';
import { SIGNAL_SOURCES } from './common/sources';

/** A signal's series over the period, by metric: its values, or its points. */
type Series = (metric: string) => number[];
type Points = (metric: string) => Timeseries['points'];

/** A figure of a signal, or "–" without one (a gap in the series). */
const orNone = (format: (v: number) => string) => (v: number | null) => (v === null ? NONE : format(v));

/** The highest and the total of a series' values; null for none. */
const max = (s: number[]) => (s.length ? Math.max(...s) : null);
const sum = (s: number[]) => (s.length ? s.reduce((a, b) => a + b, 0) : null);

/**
 * A headline that is the highest hourly value, not a figure of the whole period: a p95 of 800 ms in the worst hour
 * is not the period's p95.
 */
const worstHour = (figure: string) => (figure === NONE ? NONE : `${figure} (worst hour)`);

/** Each signal's headline figure over the period, and how one of its hourly values reads, in its unit. */
const SIGNALS = [
  { metric: 'latency_p95', label: 'Latency p95', figure: (s: Series) => worstHour(ms(max(s('latency_p95')))), value: orNone(ms) },
  { metric: 'latency_p99', label: 'Latency p99', figure: (s: Series) => worstHour(ms(max(s('latency_p99')))), value: orNone(ms) },
  // Errors over requests of the whole period (as the API's summary computes it), not a mean of hourly ratios.
  {
    metric: 'error_rate',
    label: 'Error rate',
    figure: (_: Series, p: Points) => percent(errorRate(p)),
    // The API's series is a fraction; it reads in percent, as the headline does.
    value: orNone(v => percent(v)),
    tick: (v: number | null) => percent(v),
  },
  { metric: 'requests', label: 'Traffic (requests)', figure: (s: Series) => count(sum(s('requests'))), value: orNone(count) },
  {
    metric: 'cpu',
    label: 'Saturation (CPU %)',
    figure: (s: Series) => worstHour(s('cpu').length ? `${max(s('cpu'))!.toFixed(1)}%` : NONE),
    value: orNone(v => `${v.toFixed(1)}%`),
  },
] as const;
/** Series read for the headline figures only, not charted. */
const FIGURE_ONLY = ['errors'];
const METRICS = [...SIGNALS.map(s => s.metric), ...FIGURE_ONLY];

function values(series: Timeseries): number[] {
  return series.points.map(p => p.v).filter((v): v is number => v !== null && v !== undefined);
}

/**
 * The period's errors over its requests, counting the errors of hours with traffic only, as the API's summary does:
 * an hour without requests may still report errors, which are on no request's side of the ratio.
 */
function errorRate(points: Points): number | null {
  const requests = new Map(points('requests').map(p => [p.t, p.v ?? 0]));
  const errors = points('errors')
    .filter(p => p.v !== null && p.v !== undefined && (requests.get(p.t) ?? 0) > 0)
    .map(p => p.v as number);
  const total = sum([...requests.values()]);
  return errors.length && total ? sum(errors)! / total : null;
}

const HOUR_MS = 3_600_000;

/**
 * A series as its chart draws it: every hour of the period, an hour the API gives no point for (no data, a gap) with a
 * null value, so that the line breaks there instead of joining the hours on either side as if they had been measured.
 */
function everyHour(series: Timeseries): Timeseries['points'] {
  const byHour = new Map(series.points.map(p => [Date.parse(p.t), p]));
  const end = Date.parse(series.period.end);
  const hours: Timeseries['points'] = [];
  for (let t = Math.ceil(Date.parse(series.period.start) / HOUR_MS) * HOUR_MS; t < end; t += HOUR_MS) {
    hours.push(byHour.get(t) ?? { t: new Date(t).toISOString().replace('.000Z', 'Z'), v: null });
  }
  return hours;
}

/** Golden signals over the chosen period: one headline figure and one chart per signal. */
export function GoldenSignalsCard({ entity, period }: { entity: MonitoredEntity; period: Period }) {
  const state = useMonitoringData(
    api => Promise.all(METRICS.map(metric => api.getTimeseries(entity, metric, period))),
    ['timeseries of the golden signals', entity.level, entity.id, entity.environment, period],
  );
  return (
    <Widget
      title="Golden signals"
      what="golden signals"
      state={state}
      isEmpty={all => all.every(series => values(series).length === 0)}
      freshness={all => all[0]?.freshness}
      // Its series, errors included, are all Dynatrace's: it shows no log count, so no lag of Elasticsearch's is its.
      sources={SIGNAL_SOURCES}
    >
      {all => {
        const points: Points = metric => all[METRICS.indexOf(metric)].points;
        const series: Series = metric => values(all[METRICS.indexOf(metric)]);
        return (
          <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: 16 }}>
            {SIGNALS.map((signal, i) => {
              const figure = signal.figure(series, points);
              return (
                <figure key={signal.metric} style={{ margin: 0 }} aria-label={signal.label}>
                  <figcaption>
                    <strong>{signal.label}</strong>: <span data-testid={`signal-${signal.metric}`}>{figure}</span>
                  </figcaption>
                  <ResponsiveContainer width="100%" height={120}>
                    {/* The chart is a keyboard stop (arrow keys move its tooltip): its name says what it shows. */}
                    <LineChart
                      data={everyHour(all[i])}
                      aria-label={`${signal.label}, hourly over the ${periodLabel(period).toLowerCase()}: ${figure}`}
                    >
                      <CartesianGrid strokeDasharray="3 3" />
                      <XAxis dataKey="t" hide />
                      <YAxis width={48} tickFormatter={'tick' in signal ? signal.tick : undefined} />
                      {/* The hour in UTC, as every instant the plugin shows, and the value in the signal's unit; an hour
                          without one says so ("–"), where recharts leaves the series out by default. */}
                      <Tooltip
                        filterNull={false}
                        labelFormatter={t => when(typeof t === 'string' ? t : null)}
                        formatter={(v: unknown) => signal.value(typeof v === 'number' ? v : null)}
                      />
                      <Line type="monotone" dataKey="v" name={signal.label} dot={false} stroke="#1f5493" isAnimationActive={false} />
                    </LineChart>
                  </ResponsiveContainer>
                </figure>
              );
            })}
          </div>
        );
      }}
    </Widget>
  );
}
