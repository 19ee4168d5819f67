import {
  configApiRef,
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { convertLegacyRouteRef } from '@backstage/core-compat-api';
import { monitoringApiRef } from './api/MonitoringApi';
import { MonitoringClient } from './api/MonitoringClient';
import { rootRouteRef } from './routes';

/** Rosetta Monitoring for apps on the old frontend system; same components and API client. */
export const rosettaMonitoringPlugin = createPlugin({
  id: 'rosetta-monitoring',
  apis: [
    createApiFactory({
      api: monitoringApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef, configApi: configApiRef },
      factory: ({ discoveryApi, fetchApi, configApi }) =>
        new MonitoringClient({
          discoveryApi,
          fetchApi,
          proxyPath: configApi.getOptionalString('rosettaMonitoring.proxyPath'),
        }),
    }),
  ],
  routes: { root: convertLegacyRouteRef(rootRouteRef) },
});

/** The global page (dashboard, SRE/DORA, run views). */
export const RosettaMonitoringPage = rosettaMonitoringPlugin.provide(
  createRoutableExtension({
    name: 'RosettaMonitoringPage',
    component: () => import('./legacyComponents').then(m => m.LegacyMonitoringPage),
    mountPoint: convertLegacyRouteRef(rootRouteRef),
  }),
);

/** The entity "Monitoring" tab content. */
export const EntityRosettaMonitoringContent = rosettaMonitoringPlugin.provide(
  createComponentExtension({
    name: 'EntityRosettaMonitoringContent',
    component: { lazy: () => import('./legacyComponents').then(m => m.LegacyMonitoringTab) },
  }),
);

/** The entity overview health card. */
export const EntityRosettaHealthCard = rosettaMonitoringPlugin.provide(
  createComponentExtension({
    name: 'EntityRosettaHealthCard',
    component: { lazy: () => import('./legacyComponents').then(m => m.LegacyHealthCard) },
  }),
);

/**
 * The card of a catalog Group's page, a team, group or domain of the mapping (rosetta.io/monitoring-level): its
 * applications' health, its SLO and DORA rows.
 */
export const EntityRosettaTeamCard = rosettaMonitoringPlugin.provide(
  createComponentExtension({
    name: 'EntityRosettaTeamCard',
    component: { lazy: () => import('./legacyComponents').then(m => m.LegacyTeamCard) },
  }),
);

export { monitoringApiRef, MonitoringClient };
export {
  APP_ID_ANNOTATION,
  DOMAIN_ID_ANNOTATION,
  ENVIRONMENT_ANNOTATION,
  GROUP_ID_ANNOTATION,
  isRosettaMonitoringAvailable,
  isRosettaTeamAvailable,
  MONITORING_ID_ANNOTATION,
  MONITORING_LEVEL_ANNOTATION,
  TEAM_ID_ANNOTATION,
} from './entityId';
export type { MonitoringOptions, HealthThresholds } from './options';
