import { createContext, useContext } from 'react';

/** Thresholds that turn figures into green/orange/red when the API gives no health of its own. */
export interface HealthThresholds {
  errorRateWarning: number;
  errorRateCritical: number;
  latencyP95WarningMs: number;
  latencyP95CriticalMs: number;
  /** Freshness lag (seconds) after which historized figures are shown as stale. */
  staleAfterSeconds: number;
}

export interface MonitoringOptions {
  /** Base URL of Kibana; when set, the logs link is rebuilt on it (the API's own link otherwise). */
  kibanaBaseUrl?: string;
  /** Base URL of the ArgoCD UI, for deep links to each component's application. */
  argocdBaseUrl?: string;
  thresholds: HealthThresholds;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  errorRateWarning: 0.01,
  errorRateCritical: 0.05,
  latencyP95WarningMs: 500,
  latencyP95CriticalMs: 1000,
  staleAfterSeconds: 2 * 3600,
};

export const DEFAULT_OPTIONS: MonitoringOptions = { thresholds: DEFAULT_THRESHOLDS };

const OptionsContext = createContext<MonitoringOptions>(DEFAULT_OPTIONS);

export const MonitoringOptionsProvider = OptionsContext.Provider;

export function useMonitoringOptions(): MonitoringOptions {
  return useContext(OptionsContext);
}

/** Merges partial options (from extension config or props) over the defaults. */
export function monitoringOptions(partial?: {
  kibanaBaseUrl?: string;
  argocdBaseUrl?: string;
  thresholds?: Partial<HealthThresholds>;
}): MonitoringOptions {
  return {
    kibanaBaseUrl: partial?.kibanaBaseUrl,
    argocdBaseUrl: partial?.argocdBaseUrl,
    thresholds: { ...DEFAULT_THRESHOLDS, ...partial?.thresholds },
  };
}
