import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { MonitoredEntity } from './api/types';

/** Annotation that overrides the id the monitoring API knows an entity by (as the mapping import reads it). */
export const APP_ID_ANNOTATION = 'rosetta.io/app-id';
/** The plugin's former name for the same override, still read when `rosetta.io/app-id` is not set. */
export const MONITORING_ID_ANNOTATION = 'rosetta.io/monitoring-id';
/** Annotation naming the mapping environment of an entity (as the mapping import reads it; default production). */
export const ENVIRONMENT_ANNOTATION = 'rosetta.io/environment';

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
