import { ReactNode } from 'react';
import { InfoCard } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import type { KpiPeriod } from '../api/types';
import { teamIdOf } from '../entityId';
import { coveredDays } from '../pages/KpiControls';
import { missingFrom } from './common/problems';
import { DataState, useMonitoringData } from './common/useMonitoringData';
import { WidgetBody } from './common/WidgetState';
import { periodLabel } from './common/format';
import { DoraTable } from './DoraLevels';
import { RiskTable } from './RiskTable';
import { SloTable } from './SloTable';

/** The API ranks 100 applications at most: a team's are all of them but in the rarest estates. */
export const TEAM_RISK_LIMIT = 100;

/** A 404 (no such team) or a 422 (an id the API refuses) says the same of every part of the card: said once. */
function teamIdProblem(states: DataState<unknown>[]): DataState<unknown> | undefined {
  return states.find(state => {
    if (state.status !== 'error') return false;
    const kind = missingFrom(state.error)?.kind;
    return kind === 'mapping' || kind === 'id';
  });
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section style={{ marginBottom: 16 }}>
      <h3 style={{ margin: '0 0 8px' }}>{title}</h3>
      {children}
    </section>
  );
}

/**
 * A team's monitoring on its Group page: the health of its applications, riskiest first, and its SLO and DORA rows
 * over `period` (the team's figures summed over its applications' events). Each part loads on its own.
 */
export function TeamCard({ period = 'last_30d' }: { period?: KpiPeriod }) {
  const { entity } = useEntity();
  const team = teamIdOf(entity);
  const risks = useMonitoringData(api => api.getTopRisks(TEAM_RISK_LIMIT, { team }), [team]);
  const slo = useMonitoringData(api => api.getSlo('team', { period }, undefined, { team }), [team, period]);
  const dora = useMonitoringData(api => api.getDora('team', { period }, undefined, { team }), [team, period]);
  const problem = teamIdProblem([risks, slo, dora]);
  const over = periodLabel(period).toLowerCase();
  return (
    <InfoCard title="Team monitoring" subheader={`Team ${team}`}>
      {problem ? (
        <WidgetBody subject="team" state={problem} what="team figures">
          {() => null}
        </WidgetBody>
      ) : (
        <>
          <Section title="Applications' health (last 7 days)">
            <WidgetBody
              subject="team"
              state={risks}
              what="applications"
              isEmpty={r => r.items.length === 0}
              freshness={r => r.freshness}
            >
              {r => (
                <>
                  {r.items.length === TEAM_RISK_LIMIT && <p>The {TEAM_RISK_LIMIT} riskiest applications of the team.</p>}
                  <RiskTable rows={r.items} withTeam={false} />
                </>
              )}
            </WidgetBody>
          </Section>
          <Section title={`SLO (${over})`}>
            <WidgetBody
              subject="team"
              state={slo}
              what="SLO figures"
              isEmpty={d => d.items.length === 0}
              freshness={d => d.freshness}
            >
              {d => (
                <>
                  <p>{coveredDays(d.period)}, environment {d.environment}</p>
                  <SloTable rows={d.items} groupBy={d.groupBy} />
                </>
              )}
            </WidgetBody>
          </Section>
          <Section title={`DORA (${over})`}>
            <WidgetBody
              subject="team"
              state={dora}
              what="DORA figures"
              isEmpty={d => d.items.length === 0}
              freshness={d => d.freshness}
            >
              {d => (
                <>
                  <p>{coveredDays(d.period)}</p>
                  <DoraTable rows={d.items} groupBy={d.groupBy} />
                </>
              )}
            </WidgetBody>
          </Section>
        </>
      )}
    </InfoCard>
  );
}
