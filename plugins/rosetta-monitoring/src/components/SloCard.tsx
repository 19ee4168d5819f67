
import { Fragment } from 'react';
import { EmptyState } from '@backstage/core-components';
import { Meter } from './common/StatusDot';
import type { KpiPeriod, MonitoredEntity, SloReport, SloRow, Summary } from '../api/types';
import { DataState, useMonitoringData } from './common/useMonitoringData';
import { Widget, WidgetBody } from './common/WidgetState';
import { availability, budgetLeft, burnRate, ms, NONE, periodLabel, sliPercent, target } from './common/format';
import { coveredDays } from '../pages/KpiControls';
import { coverage, judged } from './SloTable';

const isComponent = (summary: Summary) => summary.entity.kind === 'component';

/** The summary, and the application's row of the SLO report over the same period for its latency SLOs. */
type SloFigures = { summary: Summary; latency: DataState<SloReport> | null };

/** A latency SLO of an application's row: an hour is good when its percentile is within the threshold. */
const LATENCY_SLOS = [
  {
    percentile: 'p95',
    threshold: (r: SloRow) => r.latencyP95ThresholdMs,
    target: (r: SloRow) => r.latencyTarget,
    sli: (r: SloRow) => r.latencyP95Sli,
    status: (r: SloRow) => r.latencyP95Status,
    coverage: (r: SloRow) => r.latencyCoverage,
  },
  {
    percentile: 'p99',
    threshold: (r: SloRow) => r.latencyP99ThresholdMs,
    target: (r: SloRow) => r.latencyP99Target,
    sli: (r: SloRow) => r.latencyP99Sli,
    status: (r: SloRow) => r.latencyP99Status,
    coverage: (r: SloRow) => r.latencyP99Coverage,
  },
] as const;

/**
 * The objective in words: the SLI is the share of the hours measured (with traffic and that percentile reported) whose
 * percentile was within the threshold, so an hour without a figure counts on neither side.
 */
function latencyObjective(slo: (typeof LATENCY_SLOS)[number], row: SloRow): string {
  const threshold = slo.threshold(row);
  const goal = slo.target(row);
  if (threshold === null || threshold === undefined || goal === null || goal === undefined) return NONE;
  return `${slo.percentile} within ${ms(threshold)} in ${target(goal)} of the hours measured`;
}

const rowOf = (report: SloReport, app: string) => report.items.find(r => r.id === app);

/** The p95 and p99 latency SLOs of the application's row, each with its own target, status and coverage. */
function LatencySlos({ state, app }: { state: DataState<SloReport>; app: string }) {
  return (
    <WidgetBody state={state} what="latency SLO" isEmpty={report => !rowOf(report, app)}>
      {report => {
        const row = rowOf(report, app)!;
        return (
          <dl style={{ display: 'grid', gridTemplateColumns: 'auto auto', gap: 4 }}>
            {LATENCY_SLOS.map(slo => (
              <Fragment key={slo.percentile}>
                <dt>Latency {slo.percentile} objective</dt>
                <dd>{latencyObjective(slo, row)}</dd>
                <dt>Latency {slo.percentile} achieved</dt>
                <dd>{judged(sliPercent(slo.sli(row), slo.target(row)), slo.status(row))}</dd>
                {/* Under the build's minimum the status is 'insufficient data': the share measured says why. */}
                <dt>Hours with a {slo.percentile} measured</dt>
                <dd>{coverage(slo.coverage(row))}</dd>
              </Fragment>
            ))}
          </dl>
        );
      }}
    </WidgetBody>
  );
}

/** A request's answer as a state of its own, so that a failed one leaves the rest of the card shown. */
function settled<T>(answer: Promise<T>): Promise<DataState<T>> {
  return answer.then(
    value => ({ status: 'ready' as const, value }),
    error => ({ status: 'error' as const, error }),
  );
}

/** SLO target against achieved availability, error budget remaining and burn rate, then the latency SLOs. */
export function SloCard({ entity }: { entity: MonitoredEntity }) {
  const state = useMonitoringData<SloFigures>(
    async api => {
      const summary = await api.getSummary(entity);
      const slo = summary.slo;
      // The summary gives the p95's SLI and status alone: the thresholds, targets, coverage and the p99 are in the
      // application's row of the SLO report, over the summary's period.
      const latency = slo
        ? await settled(
            api.getSlo('app', { period: slo.period as KpiPeriod }, entity.environment, { app: summary.entity.applicationId }),
          )
        : null;
      return { summary, latency };
    },
    [entity.level, entity.id, entity.environment],
  );
  return (
    <Widget
      title="SLO"
      what="SLO"
      state={state}
      isEmpty={({ summary }) => !summary.slo && !isComponent(summary)}
      freshness={({ summary }) => summary.freshness}
    >
      {({ summary, latency }) => {
        const slo = summary.slo;
        if (!slo) {
          // The API judges SLOs per application only: a component's summary never has one.
          return (
            <EmptyState
              missing="info"
              title="SLOs are set per application"
              description={`This component belongs to the application ${summary.entity.applicationId}: its SLO is on the application's page.`}
            />
          );
        }
        return (
          <div>
            <dl style={{ display: 'grid', gridTemplateColumns: 'auto auto', gap: 4 }}>
              <dt>Availability target</dt>
              <dd>{target(slo.availabilityTarget)}</dd>
              <dt>
                Achieved ({periodLabel(slo.period).toLowerCase()}
                {slo.periodStart && slo.periodEnd && `, ${coveredDays({ name: slo.period, start: slo.periodStart, end: slo.periodEnd })}`})
              </dt>
              <dd>{judged(availability(slo.availability), slo.availabilityStatus)}</dd>
              {/* Under the build's minimum the availability is 'insufficient data': the share measured says why. */}
              <dt>Hours measured</dt>
              <dd>{coverage(slo.coverage)}</dd>
              <dt>Error budget remaining</dt>
              <dd>{budgetLeft(slo.errorBudgetRemaining)}</dd>
              <dt>Burn rate (period / 1 h)</dt>
              <dd>
                {burnRate(slo.burnRatePeriod)} / {burnRate(slo.burnRate1H)}
              </dd>
              <dt>Burn-rate alert</dt>
              <dd>{slo.burnRateAlert ?? '–'}</dd>
            </dl>
            {typeof slo.errorBudgetRemaining === 'number' && (
              <Meter ratio={slo.errorBudgetRemaining} label="error budget remaining" />
            )}
            {latency && <LatencySlos state={latency} app={summary.entity.applicationId} />}
          </div>
        );
      }}
    </Widget>
  );
}
