import { screen } from '@testing-library/react';
import { createExtensionTester, renderTestApp } from '@backstage/frontend-test-utils';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import type { Entity } from '@backstage/catalog-model';
import plugin from './plugin';
import { answer, billingApiComponent, profilesSystem, registerServer, renderWithApi, server } from './__testUtils__/monitoringServer';
import * as f from './__testUtils__/fixtures';

const extension = (id: string) => (plugin as any).getExtension(id);

describe('new frontend system plugin', () => {
  registerServer();

  it('provides the API, the tab, the health card and the page', () => {
    for (const id of [
      'api:rosetta-monitoring',
      'entity-content:rosetta-monitoring',
      'entity-card:rosetta-monitoring/health',
      'entity-card:rosetta-monitoring/team',
      'page:rosetta-monitoring',
    ]) {
      expect(extension(id)).toBeDefined();
    }
  });

  // The app's sidebar lists a page only when it has a title and an icon: without an icon the page is installed but
  // reachable only by typing its address.
  it("puts the page in the app's sidebar", async () => {
    renderTestApp({ features: [plugin] });
    const link = await screen.findByRole('link', { name: /Monitoring/ });
    expect(link).toHaveAttribute('href', '/rosetta-monitoring');
  });

  it('applies the thresholds from extension config to the health card', async () => {
    const failing = { ...f.summaryBillingApi, goldenSignals: { ...f.summaryBillingApi.goldenSignals, errorRate: 0.2 } };
    server.use(answer('/components/:id/summary', failing));
    const tester = createExtensionTester(extension('entity-card:rosetta-monitoring/health'), {
      config: { errorRateCritical: 0.5 },
    });
    await renderWithApi(tester.reactElement(), billingApiComponent);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
    expect(screen.getByText(/error rate 20.00% ≥ 1.00%/)).toBeInTheDocument();
  });

  describe('team card', () => {
    const team: Entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'team-egret' },
      spec: { type: 'team', children: [] },
    };

    // The app places an entity card on the pages of the entities its filter takes: a Group's, and no other kind's.
    it('is placed on Group pages only', () => {
      const tester = createExtensionTester(extension('entity-card:rosetta-monitoring/team'));
      // The tester of a looked-up extension is untyped: the filter is the blueprint's (entity: Entity) => boolean.
      const filter = tester.get(EntityCardBlueprint.dataRefs.filterFunction) as unknown as (entity: Entity) => boolean;
      expect(filter(team)).toBe(true);
      expect(filter({ ...team, kind: 'group' })).toBe(true);
      expect(filter(profilesSystem)).toBe(false);
      expect(filter(billingApiComponent)).toBe(false);
      expect(filter({ ...team, kind: 'User' })).toBe(false);
    });

    it('reads the SLO and DORA rows over the period its config gives', async () => {
      const teamOnly = { team: 'team-egret', groupBy: 'team', period: 'last_90d' };
      server.use(
        answer('/risk/top', f.riskTopWhere(r => r.team === 'team-egret'), { team: 'team-egret' }),
        answer('/kpis/slo', { ...f.sloTeam, items: f.sloTeam.items.slice(0, 1) }, teamOnly),
        answer('/kpis/dora', { ...f.doraGroup, groupBy: 'team', items: [] }, teamOnly),
      );
      const tester = createExtensionTester(extension('entity-card:rosetta-monitoring/team'), {
        config: { period: 'last_90d' },
      });
      await renderWithApi(tester.reactElement(), team);
      expect(await screen.findByText('Team monitoring')).toBeInTheDocument();
      expect(await screen.findByText('Profiles')).toBeInTheDocument();
      expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
      expect(await screen.findByText('No DORA figures in the period')).toBeInTheDocument();
    });

    // A department annotated as a group of the mapping: the card asks for the group, grouped by group.
    it('reads a Group at the level its rosetta.io/monitoring-level annotation names', async () => {
      const department: Entity = {
        ...team,
        metadata: { name: 'risk-it', annotations: { 'rosetta.io/monitoring-level': 'group' } },
        spec: { type: 'department', children: [] },
      };
      const groupOnly = { group: 'risk-it', groupBy: 'group', period: 'last_30d' };
      server.use(
        answer('/risk/top', f.riskTopWhere(r => r.groupId === 'risk-it'), { group: 'risk-it' }),
        answer('/kpis/slo', { ...f.sloTeam, groupBy: 'group', items: [] }, groupOnly),
        answer('/kpis/dora', { ...f.doraGroup, items: f.doraGroup.items.filter(r => r.id === 'risk-it') }, groupOnly),
      );
      const tester = createExtensionTester(extension('entity-card:rosetta-monitoring/team'));
      await renderWithApi(tester.reactElement(), department);
      expect(await screen.findByText('Group monitoring')).toBeInTheDocument();
      expect(await screen.findByText('Profiles')).toBeInTheDocument();
      expect(await screen.findByText('No SLO figures in the period')).toBeInTheDocument();
      expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
    });
  });
});
