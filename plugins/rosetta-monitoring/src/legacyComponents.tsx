
import { ReactNode } from 'react';
import { Content, EmptyState, Header, InfoCard, Page } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import type { KpiPeriod } from './api/types';
import { isRosettaMonitoringAvailable, isRosettaTeamAvailable } from './entityId';
import { HealthThresholds, monitoringOptions } from './options';
import { WithOptions } from './components/WithOptions';
import { MonitoringTab } from './components/MonitoringTab';
import { HealthCard } from './components/HealthCard';
import { TeamCard } from './components/TeamCard';
import { MonitoringPage } from './pages/MonitoringPage';

/** Options the legacy components take as props (the new system reads them from extension config). */
export interface LegacyOptionsProps {
  kibanaBaseUrl?: string;
  argocdBaseUrl?: string;
  thresholds?: Partial<HealthThresholds>;
}

/**
 * The legacy entity components are placed by hand on entity pages, where nothing filters them (the new system's
 * extensions are filtered by kind): on a kind the API does not serve, they say so instead of asking it.
 */
function MonitoredKindsOnly({ title, children }: { title: string; children: ReactNode }) {
  const { entity } = useEntity();
  if (isRosettaMonitoringAvailable(entity)) {
    return <>{children}</>;
  }
  return (
    <InfoCard title={title}>
      <EmptyState
        missing="info"
        title="Not monitored"
        description={`Rosetta Monitoring covers Components and Systems, not ${entity.kind} entities${
          entity.kind === 'Group' ? ': a team page shows its monitoring with EntityRosettaTeamCard' : ''
        }.`}
      />
    </InfoCard>
  );
}

export function LegacyTeamCard(props: LegacyOptionsProps & { period?: KpiPeriod }) {
  const { entity } = useEntity();
  const { period, ...options } = props;
  if (!isRosettaTeamAvailable(entity)) {
    return (
      <InfoCard title="Team monitoring">
        <EmptyState
          missing="info"
          title="Not a team"
          description={`The team card shows a catalog Group's applications, not a ${entity.kind} entity's.`}
        />
      </InfoCard>
    );
  }
  return (
    <WithOptions options={monitoringOptions(options)}>
      <TeamCard period={period} />
    </WithOptions>
  );
}

export function LegacyMonitoringTab(props: LegacyOptionsProps) {
  return (
    <MonitoredKindsOnly title="Monitoring">
      <WithOptions options={monitoringOptions(props)}>
        <MonitoringTab />
      </WithOptions>
    </MonitoredKindsOnly>
  );
}

export function LegacyHealthCard(props: LegacyOptionsProps) {
  return (
    <MonitoredKindsOnly title="Monitoring health">
      <WithOptions options={monitoringOptions(props)}>
        <HealthCard />
      </WithOptions>
    </MonitoredKindsOnly>
  );
}

/** The old system adds no header to a routed page (the new one's page extension does): the page brings its own. */
export function LegacyMonitoringPage(props: LegacyOptionsProps) {
  return (
    <Page themeId="tool">
      <Header title="Monitoring" />
      {/* The page's own padding is the view's: no second one around it. */}
      <Content noPadding>
        <WithOptions options={monitoringOptions(props)}>
          <MonitoringPage />
        </WithOptions>
      </Content>
    </Page>
  );
}
