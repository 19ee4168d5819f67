export { default } from './plugin';
export { monitoringApiRef } from './api/MonitoringApi';
export type { MonitoringApi } from './api/MonitoringApi';
export { MonitoringClient } from './api/MonitoringClient';
export type * from './api/types';
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
export { rootRouteRef } from './routes';
