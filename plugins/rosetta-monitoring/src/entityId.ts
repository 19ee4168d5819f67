import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { MonitoredEntity } from './api/types';

/** Annotation that overrides the id the monitoring API knows an entity by (as the mapping import reads it). */
export const APP_ID_ANNOTATION = 'rosetta.io/app-id';
/** The plugin's former name for the same override, still read when `rosetta.io/app-id` is not set. */
export const MONITORING_ID_ANNOTATION = 'rosetta.io/monitoring-id';
/**
 * Annotation naming the mapping environment of an entity. Without it the plugin names none, and the API reads its
 * production environment (ROSETTA_PRODUCTION_ENVIRONMENT: production unless the estate names it otherwise).
 */
export const ENVIRONMENT_ANNOTATION = 'rosetta.io/environment';

/**
 * Annotation on a catalog Group naming the level of the mapping it is: `team` (the default), `group` or `domain`.
 * The mapping's teams are its applications' owners, its groups their parents, its domains the Systems' domains; a
 * Group that is a department or a business unit says which one it is here, nothing guesses it from its spec.type.
 */
export const MONITORING_LEVEL_ANNOTATION = 'rosetta.io/monitoring-level';

/**
 * Annotation on a catalog Group that overrides the team id the monitoring API knows it by. By default a team is
 * its Group's name: the mapping import takes an application's team from the name in its `spec.owner`.
 */
export const TEAM_ID_ANNOTATION = 'rosetta.io/team-id';
/** The same for a Group at the `group` level (the mapping import takes a team's group from its `spec.parent`). */
export const GROUP_ID_ANNOTATION = 'rosetta.io/group-id';
/** The same for a Group at the `domain` level (the mapping import takes an application's from its `spec.domain`). */
export const DOMAIN_ID_ANNOTATION = 'rosetta.io/domain-id';

/** The levels of the mapping above the applications, each a filter of the API's reports and risk ranking. */
export const ORG_LEVELS = ['team', 'group', 'domain'] as const;
export type OrgLevel = (typeof ORG_LEVELS)[number];

/** The annotation that overrides a Group's id at each level: only its level's is read. */
export const LEVEL_ID_ANNOTATIONS: Record<OrgLevel, string> = {
  team: TEAM_ID_ANNOTATION,
  group: GROUP_ID_ANNOTATION,
  domain: DOMAIN_ID_ANNOTATION,
};

/** What a Group is in the mapping, or the level annotation's value when it names no level. */
export type MonitoredGroup = { level: OrgLevel; id: string; environment?: string } | { invalidLevel: string };

/** Catalog kinds the monitoring tab and card apply to (applications are Systems in the catalog). */
const MONITORED_KINDS = ['component', 'system'];

export function isRosettaMonitoringAvailable(entity: Entity): boolean {
  return MONITORED_KINDS.includes(entity.kind.toLocaleLowerCase('en-US'));
}

/**
 * The monitoring API's id for an entity (its ref, unless an annotation says otherwise) and its environment. The
 * annotation is the mapping's id, unique across namespaces (the mapping import refuses two entities under one id):
 * it is sent as given, with no namespace for the API to check.
 */
export function monitoredEntityOf(entity: Entity): MonitoredEntity {
  const annotations = entity.metadata.annotations ?? {};
  const override = annotations[APP_ID_ANNOTATION]?.trim() || annotations[MONITORING_ID_ANNOTATION]?.trim();
  const level = entity.kind.toLocaleLowerCase('en-US') === 'component' ? 'components' : 'applications';
  const environment = annotations[ENVIRONMENT_ANNOTATION]?.trim() || undefined;
  return { level, id: override || stringifyEntityRef(entity), environment };
}

/** The team card applies to catalog Groups: the mapping's teams, or its groups and domains by their level annotation. */
export function isRosettaTeamAvailable(entity: Entity): boolean {
  return entity.kind.toLocaleLowerCase('en-US') === 'group';
}

/**
 * The level and id the monitoring API knows a Group by: a team unless rosetta.io/monitoring-level says otherwise,
 * its name unless its level's id annotation says otherwise; and the environment its card reads, the API's production
 * unless rosetta.io/environment says otherwise, as for the entity cards.
 */
export function monitoredGroupOf(entity: Entity): MonitoredGroup {
  const annotations = entity.metadata.annotations ?? {};
  const said = annotations[MONITORING_LEVEL_ANNOTATION]?.trim();
  const level = said ? said.toLocaleLowerCase('en-US') : 'team';
  if (!isOrgLevel(level)) {
    return { invalidLevel: said ?? '' };
  }
  return {
    level,
    id: annotations[LEVEL_ID_ANNOTATIONS[level]]?.trim() || entity.metadata.name,
    environment: annotations[ENVIRONMENT_ANNOTATION]?.trim() || undefined,
  };
}

/** Whether `level` names one of the mapping's levels (the query parameter of its filter). */
export function isOrgLevel(level: string): level is OrgLevel {
  return (ORG_LEVELS as readonly string[]).includes(level);
}
