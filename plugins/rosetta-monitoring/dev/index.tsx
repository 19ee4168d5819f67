import { createDevApp } from '@backstage/dev-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { rosettaMonitoringPlugin } from '../src/legacy';
import { LegacyHealthCard, LegacyMonitoringPage, LegacyMonitoringTab, LegacyTeamCard } from '../src/legacyComponents';
import { profilesApiComponent, profilesSystem, teamEgretGroup } from './entities';

// Standalone app of the plugin. The API is reached through `${backend.baseUrl}/api/proxy/rosetta`,
// which the e2e run serves with a small proxy adding the API key (as the Backstage proxy does).
createDevApp()
  .registerPlugin(rosettaMonitoringPlugin)
  .addPage({
    path: '/monitoring-tab',
    title: 'Monitoring tab (Profiles)',
    element: (
      <EntityProvider entity={profilesSystem}>
        <LegacyMonitoringTab />
      </EntityProvider>
    ),
  })
  .addPage({
    path: '/health-card',
    title: 'Health card (Profiles)',
    element: (
      <div style={{ display: 'grid', gap: 16, padding: 24, maxWidth: 640 }}>
        <EntityProvider entity={profilesSystem}>
          <LegacyHealthCard />
        </EntityProvider>
        <EntityProvider entity={profilesApiComponent}>
          <LegacyHealthCard />
        </EntityProvider>
      </div>
    ),
  })
  .addPage({
    path: '/team-card',
    title: 'Team card (team-egret)',
    element: (
      <div style={{ padding: 24 }}>
        <EntityProvider entity={teamEgretGroup}>
          <LegacyTeamCard />
        </EntityProvider>
      </div>
    ),
  })
  .addPage({ path: '/dashboard', title: 'Monitoring dashboard', element: <LegacyMonitoringPage /> })
  .render();
