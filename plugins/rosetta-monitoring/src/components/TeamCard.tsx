import { ReactNode } from 'react';
import { EmptyState, InfoCard, WarningPanel } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import type { Entity } from '@backstage/catalog-model';
import type { Freshness, KpiPeriod } from '../api/types';
import {
  ENVIRONMENT_ANNOTATION,
  LEVEL_ID_ANNOTATIONS,
  MONITORING_LEVEL_ANNOTATION,
  monitoredGroupOf,
  OrgLevel,
} from '../entityId';
import { coveredDays } from '../pages/KpiControls';
import { Missing, missingFrom, scoredOnlyIn } from './common/problems';
import { DataState, useMonitoringData } from './common/useMonitoringData';
import { FreshnessNotices } from './common/StaleNotice';
import { Announced, WidgetBody } from './common/WidgetState';
import { GROUP_LABELS, periodLabel } from './common/format';
import { bandsAndMode, DoraTable } from './DoraLevels';
import { RiskTable } from './RiskTable';
import { SloTable } from './SloTable';
import { HEALTH_SOURCES } from './common/sources';

/** The card lists the level's riskiest applications, its first page of the ranking: a domain may hold more. */
export const TEAM_RISK_LIMIT = 100;

/**
 * Says that the ranking shows only the riskiest applications when the level holds more than the page lists (the
 * ranking's `page.total` counts them), so that the list is not taken for the whole.
 */
function RankingCut({ shown, total, level }: { shown: number; total: number; level: OrgLevel }) {
  if (total <= shown) return null;
  const title = `Only the ${shown} riskiest of the ${level}'s ${total} applications are shown`;
  return <WarningPanel severity="info" title={title} />;
}

/** What the mapping's teams, groups and domains are, for the card that does not find this Group among them. */
const LEVEL_SOURCES: Record<OrgLevel, string> = {
  team: "The mapping's teams are the owners (spec.owner) of its applications",
  group: "The mapping's groups are the parents (spec.parent) of its applications' teams",
  domain: "The mapping's domains are the domains (spec.domain) of its applications",
};

/**
 * A 404 (no such team), a 422 (an id the API refuses) or an environment it refuses or does not know says the same of
 * every part of the card: said once.
 */
function levelIdProblem(states: DataState<unknown>[]): Missing | undefined {
  for (const state of states) {
    const missing = state.status === 'error' ? missingFrom(state.error) : undefined;
    if (missing?.kind === 'mapping' || missing?.kind === 'id' || missing?.kind === 'environment') return missing;
  }
  return undefined;
}

/** The freshness of the oldest answer the card shows: one stale warning for the card, not one for each part. */
function oldestFreshness(states: DataState<{ freshness?: Freshness } | null>[]): Freshness | undefined {
  let oldest: Freshness | undefined;
  for (const state of states) {
    const freshness = state.status === 'ready' ? state.value?.freshness : undefined;
    if ((freshness?.lagSeconds ?? -1) > (oldest?.lagSeconds ?? -1)) oldest = freshness;
  }
  return oldest;
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
 * A Group the API does not know at its level (404), an id it refuses (422, set by the level's id annotation), or an
 * environment it refuses or does not know (set by the environment annotation). A Group of another spec.type than
 * team is read as a team until its level annotation says otherwise: the 404 says so.
 */
function LevelIdProblem({ missing, level, entity }: { missing: Missing; level: OrgLevel; entity: Entity }) {
  if (missing.kind === 'environment') {
    return (
      <EmptyState
        missing="field"
        title="Not a valid environment"
        description={`The monitoring API refuses this Group's environment: ${missing.detail}. Correct the Group's ${ENVIRONMENT_ANNOTATION} annotation to an environment of the mapping (the API's production environment when it is not set).`}
      />
    );
  }
  const annotation = LEVEL_ID_ANNOTATIONS[level];
  if (missing.kind === 'mapping') {
    const type = typeof entity.spec?.type === 'string' ? entity.spec.type : undefined;
    const unset = !entity.metadata.annotations?.[MONITORING_LEVEL_ANNOTATION];
    const levelHint =
      level === 'team' && unset && type && type !== 'team'
        ? ` This Group is a ${type}, read as a team: when it is a group or a domain of the mapping, set its ${MONITORING_LEVEL_ANNOTATION} annotation to group or domain.`
        : '';
    return (
      <EmptyState
        missing="field"
        title={`No mapping for this ${level}`}
        description={`The monitoring API does not know this ${level} (${missing.detail}). ${LEVEL_SOURCES[level]}; when this Group is one of them under another id, set the Group's ${annotation} annotation to that id.${levelHint}`}
      />
    );
  }
  return (
    <EmptyState
      missing="field"
      title={`Not a valid ${level} id`}
      description={`The monitoring API refuses this ${level}'s id: ${missing.detail}. Correct the Group's ${annotation} annotation to the ${level}'s id in the mapping.`}
    />
  );
}

/**
 * A Group's monitoring on its page, at the level of the mapping it is (a team unless its rosetta.io/monitoring-level
 * annotation says group or domain): the health of its applications, riskiest first, and its SLO and DORA rows over
 * `period` (its figures summed over its applications' events). Each part loads on its own.
 */
export function TeamCard({ period = 'last_30d' }: { period?: KpiPeriod }) {
  const { entity } = useEntity();
  const group = monitoredGroupOf(entity);
  if ('invalidLevel' in group) {
    return (
      <InfoCard title="Monitoring">
        <Announced>
          <EmptyState
            missing="field"
            title="Not a monitoring level"
            description={`The Group's ${MONITORING_LEVEL_ANNOTATION} annotation says '${group.invalidLevel}': it names the level of the mapping this Group is, team, group or domain (team when it is not set). Correct it to one of them.`}
          />
        </Announced>
      </InfoCard>
    );
  }
  return <LevelCard level={group.level} id={group.id} environment={group.environment} period={period} entity={entity} />;
}

type LevelCardProps = { level: OrgLevel; id: string; environment?: string; period: KpiPeriod; entity: Entity };

function LevelCard({ level, id, environment, period, entity }: LevelCardProps) {
  const filter = { [level]: id };
  // Risk and health are scored in production only: the API refuses the ranking in another environment, naming the
  // estate's production (which the plugin does not know: production unless the estate names it otherwise).
  const risks = useMonitoringData(
    api => api.getTopRisks(TEAM_RISK_LIMIT, filter, environment),
    ['top risks', TEAM_RISK_LIMIT, filter, environment],
  );
  const scoredIn = risks.status === 'error' ? scoredOnlyIn(risks.error) : undefined;
  const slo = useMonitoringData(
    api => api.getSlo(level, { period }, environment, filter),
    ['slo', level, { period }, environment, filter],
  );
  const dora = useMonitoringData(
    api => api.getDora(level, { period }, environment, filter),
    ['dora', level, { period }, environment, filter],
  );
  const problem = levelIdProblem(scoredIn ? [slo, dora] : [risks, slo, dora]);
  const freshness = oldestFreshness([risks, slo, dora]);
  const over = periodLabel(period).toLowerCase();
  const label = GROUP_LABELS[level];
  return (
    <InfoCard title={`${label} monitoring`} subheader={environment ? `${label} ${id}, ${environment}` : `${label} ${id}`}>
      {problem ? (
        <Announced>
          <LevelIdProblem missing={problem} level={level} entity={entity} />
        </Announced>
      ) : (
        <>
          {freshness && <FreshnessNotices freshness={freshness} sources={HEALTH_SOURCES} />}
          <Section title="Applications' health (last 7 days)">
            {scoredIn ? (
              <Announced>
                <EmptyState
                  missing="info"
                  title={`Health is judged in ${scoredIn} only`}
                  description={`The monitoring API scores the risk and health of applications in ${scoredIn} only, not in ${environment} (the Group's ${ENVIRONMENT_ANNOTATION} annotation); the SLO and DORA rows below are ${environment}'s.`}
                />
              </Announced>
            ) : (
              // The ranking says itself how much it leaves out: the generic notice's advice (narrow the period or the
              // grouping) is none the card can follow.
              <WidgetBody state={risks} what="applications" isEmpty={r => r.items.length === 0} saysItsCut>
                {r => (
                  <>
                    <RankingCut shown={r.items.length} total={r.page.total} level={level} />
                    <RiskTable rows={r.items} withTeam={level !== 'team'} />
                  </>
                )}
              </WidgetBody>
            )}
          </Section>
          <Section title={`SLO (${over})`}>
            <WidgetBody
              state={slo}
              what="SLO figures"
              isEmpty={d => d.items.length === 0}
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
              state={dora}
              what="DORA figures"
              isEmpty={d => d.items.length === 0}
            >
              {d => (
                <>
                  <p>
                    {coveredDays(d.period)}, {bandsAndMode(d)}
                  </p>
                  <DoraTable rows={d.items} groupBy={d.groupBy} period={d.period} />
                </>
              )}
            </WidgetBody>
          </Section>
        </>
      )}
    </InfoCard>
  );
}
