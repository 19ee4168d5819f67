
import { HealthThresholds, monitoringOptions } from './options';
import { WithOptions } from './components/WithOptions';
import { MonitoringTab } from './components/MonitoringTab';
import { HealthCard } from './components/HealthCard';
import { MonitoringPage } from './pages/MonitoringPage';

/** Options the legacy components take as props (the new system reads them from extension config). */
export interface LegacyOptionsProps {
  kibanaBaseUrl?: string;
  argocdBaseUrl?: string;
  thresholds?: Partial<HealthThresholds>;
}

export function LegacyMonitoringTab(props: LegacyOptionsProps) {
  return (
    <WithOptions options={monitoringOptions(props)}>
      <MonitoringTab />
    </WithOptions>
  );
}

export function LegacyHealthCard(props: LegacyOptionsProps) {
  return (
    <WithOptions options={monitoringOptions(props)}>
      <HealthCard />
    </WithOptions>
  );
}

export function LegacyMonitoringPage(props: LegacyOptionsProps) {
  return (
    <WithOptions options={monitoringOptions(props)}>
      <MonitoringPage />
    </WithOptions>
  );
}
