
import { z } from 'zod';
import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
  FrontendPlugin,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import { EntityCardBlueprint, EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { monitoringApiRef } from './api/MonitoringApi';
import type { KpiPeriod } from './api/types';
import { MonitoringClient, DEFAULT_PROXY_PATH } from './api/MonitoringClient';
import { isRosettaMonitoringAvailable, isRosettaTeamAvailable } from './entityId';
import { monitoringOptions } from './options';
import { rootRouteRef } from './routes';
import { WithOptions } from './components/WithOptions';

/** Widget options every UI extension accepts in its extension config. */
const optionsSchema = {
  kibanaBaseUrl: z.string().optional(),
  argocdBaseUrl: z.string().optional(),
  errorRateWarning: z.number().optional(),
  errorRateCritical: z.number().optional(),
  latencyP95WarningMs: z.number().optional(),
  latencyP95CriticalMs: z.number().optional(),
  staleAfterSeconds: z.number().optional(),
};

type OptionsConfig = { [K in keyof typeof optionsSchema]: z.infer<(typeof optionsSchema)[K]> };

function optionsFrom(config: OptionsConfig) {
  const { kibanaBaseUrl, argocdBaseUrl, ...thresholds } = config;
  const defined = Object.fromEntries(Object.entries(thresholds).filter(([, v]) => v !== undefined));
  return monitoringOptions({ kibanaBaseUrl, argocdBaseUrl, thresholds: defined });
}

const monitoringApi = ApiBlueprint.makeWithOverrides({
  configSchema: { proxyPath: z.string().default(DEFAULT_PROXY_PATH) },
  factory(originalFactory, { config }) {
    return originalFactory(defineParams =>
      defineParams({
        api: monitoringApiRef,
        deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
        factory: ({ discoveryApi, fetchApi }) =>
          new MonitoringClient({ discoveryApi, fetchApi, proxyPath: config.proxyPath }),
      }),
    );
  },
});

const monitoringEntityContent = EntityContentBlueprint.makeWithOverrides({
  configSchema: optionsSchema,
  factory(originalFactory, { config }) {
    return originalFactory({
      path: 'monitoring',
      title: 'Monitoring',
      group: 'observability',
      filter: isRosettaMonitoringAvailable,
      loader: () =>
        import('./components/MonitoringTab').then(m => (
          <WithOptions options={optionsFrom(config)}>
            <m.MonitoringTab />
          </WithOptions>
        )),
    });
  },
});

const monitoringHealthCard = EntityCardBlueprint.makeWithOverrides({
  name: 'health',
  configSchema: optionsSchema,
  factory(originalFactory, { config }) {
    return originalFactory({
      type: 'info',
      filter: isRosettaMonitoringAvailable,
      loader: () =>
        import('./components/HealthCard').then(m => (
          <WithOptions options={optionsFrom(config)}>
            <m.HealthCard />
          </WithOptions>
        )),
    });
  },
});

/** The KPI periods the team card's SLO and DORA rows may be read over. */
const KPI_PERIODS = [
  'last_7d',
  'last_30d',
  'last_90d',
  'month',
  'quarter',
  'previous_month',
  'previous_quarter',
] as const satisfies readonly KpiPeriod[];

const monitoringTeamCard = EntityCardBlueprint.makeWithOverrides({
  name: 'team',
  configSchema: { ...optionsSchema, period: z.enum(KPI_PERIODS).optional() },
  factory(originalFactory, { config }) {
    const { period, ...options } = config;
    return originalFactory({
      filter: isRosettaTeamAvailable,
      loader: () =>
        import('./components/TeamCard').then(m => (
          <WithOptions options={optionsFrom(options)}>
            <m.TeamCard period={period} />
          </WithOptions>
        )),
    });
  },
});

/** The page's icon (Material's "show chart"): the app's sidebar lists a page only when it has one. */
const monitoringIcon = (
  <svg viewBox="0 0 24 24" width="24" height="24" fill="currentColor" aria-hidden="true" focusable="false">
    <path d="M3.5 18.49l6-6.01 4 4L22 6.92l-1.41-1.41-7.09 7.97-4-4L2 16.99z" />
  </svg>
);

const monitoringPage = PageBlueprint.makeWithOverrides({
  configSchema: optionsSchema,
  factory(originalFactory, { config }) {
    return originalFactory({
      path: '/rosetta-monitoring',
      title: 'Monitoring',
      icon: monitoringIcon,
      routeRef: rootRouteRef,
      loader: () =>
        import('./pages/MonitoringPage').then(m => (
          <WithOptions options={optionsFrom(config)}>
            <m.MonitoringPage />
          </WithOptions>
        )),
    });
  },
});

/** Rosetta Monitoring for apps on the new frontend system. */
const rosettaMonitoringPlugin: FrontendPlugin<{ root: typeof rootRouteRef }> = createFrontendPlugin({
  pluginId: 'rosetta-monitoring',
  extensions: [monitoringApi, monitoringEntityContent, monitoringHealthCard, monitoringTeamCard, monitoringPage],
  routes: { root: rootRouteRef },
});

export default rosettaMonitoringPlugin;
