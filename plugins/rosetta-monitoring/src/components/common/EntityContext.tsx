import { useEntity } from '@backstage/plugin-catalog-react';
import type { MonitoredEntity } from '../../api/types';
import { monitoredEntityOf } from '../../entityId';

/** The monitoring API's id for the entity of the current catalog page. */
export function useMonitoredEntity(): MonitoredEntity {
  const { entity } = useEntity();
  return monitoredEntityOf(entity);
}
