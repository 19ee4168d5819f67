
import { Fragment } from 'react';
import { EmptyState } from '@backstage/core-components';
import { Meter } from './common/StatusDot';
import type { MonitoredEntity, SloStatus, Summary } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { Widget } from './common/WidgetState';
import { availability, budgetLeft, burnRate, ms, NONE, periodLabel, sliPercent, target, when } from './common/format';
import { coveredDays } from '../pages/KpiControls';
import { budgetJudged, coverage, isJudged, judged } from './SloTable';
import { SIGNAL_SOURCES } from './common/sources';

const isComponent = (summary: Summary) => summary.entity.kind === 'component';

/** A latency SLO of the summary's SLO: an hour is good when its percentile is within the threshold. */
const LATENCY_SLOS = [
  {
    percentile: 'p95',
    threshold: (s: SloStatus) => s.latencyP95ThresholdMs,
    target: (s: SloStatus) => s.latencyTarget,
    sli: (s: SloStatus) => s.latencyP95Sli,
    status: (s: SloStatus) => s.latencyP95Status,
    coverage: (s: SloStatus) => s.latencyCoverage,
    budgetRemaining: (s: SloStatus) => s.latencyP95BudgetRemaining,
  },
  {
    percentile: 'p99',
    threshold: (s: SloStatus) => s.latencyP99ThresholdMs,
    target: (s: SloStatus) => s.latencyP99Target,
    sli: (s: SloStatus) => s.latencyP99Sli,
    status: (s: SloStatus) => s.latencyP99Status,
    coverage: (s: SloStatus) => s.latencyP99Coverage,
    budgetRemaining: (s: SloStatus) => s.latencyP99BudgetRemaining,
  },
] as const;

/**
 * The objective in words: the SLI is the share of the hours measured (with traffic and that percentile reported) whose
 * percentile was within the threshold, so an hour without a figure counts on neither side.
 */
function latencyObjective(slo: (typeof LATENCY_SLOS)[number], row: SloStatus): string {
  const threshold = slo.threshold(row);
  const goal = slo.target(row);
  if (threshold === null || threshold === undefined || goal === null || goal === undefined) return NONE;
  return `${slo.percentile} within ${ms(threshold)} in ${target(goal)} of the hours measured`;
}

/**
 * The p95 and p99 latency SLOs of the summary's SLO, each with its own target, status, coverage and error budget (in
 * hours: the bad hours its target allows among those measured).
 */
function LatencySlos({ slo: row }: { slo: SloStatus }) {
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
          <dt>Latency {slo.percentile} error budget remaining</dt>
          <dd>{budgetJudged(slo.budgetRemaining(row), slo.status(row))}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

/** The error budget bar's value as heard: the figure shown, overspent below 0 (where the bar stops). */
const budgetSaid = (remaining: number) => `${budgetLeft(remaining)}${remaining < 0 ? ' (overspent)' : ''}`;

/** SLO target against achieved availability, error budget remaining and burn rate, then the latency SLOs. */
export function SloCard({ entity }: { entity: MonitoredEntity }) {
  // The summary carries both latency SLOs beside the availability: one request.
  const state = useMonitoringData<Summary>(
    api => api.getSummary(entity),
    ['summary', entity.level, entity.id, entity.environment],
  );
  return (
    <Widget
      title="SLO"
      what="SLO"
      state={state}
      isEmpty={summary => !summary.slo && !isComponent(summary)}
      freshness={summary => summary.freshness}
      sources={SIGNAL_SOURCES}
    >
      {summary => {
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
              <dd>{budgetJudged(slo.errorBudgetRemaining, slo.availabilityStatus)}</dd>
              <dt>Burn rate (period / 1 h)</dt>
              <dd>
                {burnRate(slo.burnRatePeriod)} / {burnRate(slo.burnRate1H)}
              </dd>
              <dt>Burn-rate alert</dt>
              <dd>{slo.burnRateAlert ?? '–'}</dd>
              {/* With Dynatrace an hour behind, the windows end at the last hour read, not at the build. */}
              {slo.burnWindowsEnd && (
                <>
                  <dt>Burn rates up to</dt>
                  <dd>{when(slo.burnWindowsEnd)}</dd>
                </>
              )}
            </dl>
            {/* A bar of a budget not judged (too few hours measured) would draw it as health. */}
            {typeof slo.errorBudgetRemaining === 'number' && isJudged(slo.availabilityStatus) && (
              <Meter
                ratio={slo.errorBudgetRemaining}
                label="error budget remaining"
                valueText={budgetSaid(slo.errorBudgetRemaining)}
              />
            )}
            <LatencySlos slo={slo} />
          </div>
        );
      }}
    </Widget>
  );
}
