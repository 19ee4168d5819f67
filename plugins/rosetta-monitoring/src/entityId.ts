import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { MonitoredEntity } from './api/types';

/** Annotation that overrides the id the monitoring API knows an entity by (as the mapping import reads it). */
export const APP_ID_ANNOTATION = 'rosetta.io/app-id';
/** The plugin's former name for the same override, still read when `rosetta.io/app-id` is not set. */
export const MONITORING_ID_ANNOTATION = 'rosetta.io/monitoring-id';
/** Annotation naming the mapping environment of an entity (as the mapping import reads it; default production). */
export const ENVIRONMENT_ANNOTATION = 'rosetta.io/environment';

/**
 * Annotation on a catalog Group that overrides the team id the monitoring API knows it by. By default a team is
 * its Group's name: the mapping import takes an application's team from the name in its `spec.owner`.
 */
export const TEAM_ID_ANNOTATION = 'rosetta.io/team-id';

/** Catalog kinds the monitoring tab and card apply to (applications are Systems in the catalog). */
const MONITORED_KINDS = ['component', 'system'];

export function isRosettaMonitoringAvailable(entity: Entity): boolean {
  return MONITORED_KINDS.includes(entity.kind.toLocaleLowerCase('en-US'));
}

/** The monitoring API's id for an entity (its ref, unless an annotation says otherwise) and its environment. */
export function monitoredEntityOf(entity: Entity): MonitoredEntity {
  const annotations = entity.metadata.annotations ?? {};
  const override = annotations[APP_ID_ANNOTATION]?.trim() || annotations[MONITORING_ID_ANNOTATION]?.trim();
  const level = entity.kind.toLocaleLowerCase('en-US') === 'component' ? 'components' : 'applications';
  const environment = annotations[ENVIRONMENT_ANNOTATION]?.trim() || 'production';
  return { level, id: override || stringifyEntityRef(entity), environment };
}

/** The team card applies to catalog Groups, the owners of the mapping's applications. */
export function isRosettaTeamAvailable(entity: Entity): boolean {
  return entity.kind.toLocaleLowerCase('en-US') === 'group';
}

/** The monitoring API's team id for a Group: its name, unless the annotation says otherwise. */
export function teamIdOf(entity: Entity): string {
  return entity.metadata.annotations?.[TEAM_ID_ANNOTATION]?.trim() || entity.metadata.name;
}
