import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { MonitoredEntity } from './api/types';

/** Annotation that overrides the id the monitoring API knows an entity by. */
export const MONITORING_ID_ANNOTATION = 'rosetta.io/monitoring-id';

/** Catalog kinds the monitoring tab and card apply to (applications are Systems in the catalog). */
const MONITORED_KINDS = ['component', 'system'];

export function isRosettaMonitoringAvailable(entity: Entity): boolean {
  return MONITORED_KINDS.includes(entity.kind.toLocaleLowerCase('en-US'));
}

/** The monitoring API's id for an entity: its ref, unless the annotation says otherwise. */
export function monitoredEntityOf(entity: Entity): MonitoredEntity {
  const override = entity.metadata.annotations?.[MONITORING_ID_ANNOTATION]?.trim();
  const level = entity.kind.toLocaleLowerCase('en-US') === 'component' ? 'components' : 'applications';
  return { level, id: override || stringifyEntityRef(entity) };
}
