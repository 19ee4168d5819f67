import { screen, within } from '@testing-library/react';
import type { Entity } from '@backstage/catalog-model';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DashboardPage } from '../pages/DashboardPage';
import { EntityDoraCard } from './EntityDoraCard';
import { TeamCard } from './TeamCard';

/*
 * A DORA level ("· high") means another thing under the 2023 and the 2024 bands, and in full or light correlation:
 * wherever one is shown, the bands and the mode the API answered with are named beside it. The reports below are
 * answered under the 2024 bands in light correlation, neither of them the API's default, so that a view naming the
 * defaults whatever it is answered would read false.
 */
const UNDER_2024_LIGHT = /bands 2024, light correlation/;

const inLight2024 = <T extends object>(report: T) => ({ ...report, bandSet: '2024', mode: 'light' });

/** The text of the card (or widget) titled `title`. */
const textOf = (title: string) => screen.getByText(title).closest('.MuiCard-root')!.textContent;

const teamEgret: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name: 'team-egret' },
  spec: { type: 'team', children: [] },
};

describe('DORA levels name the bands and the correlation they are judged under', () => {
  registerServer();

  it("on the dashboard's DORA per group", async () => {
    server.use(answer('/kpis/dora', inLight2024(f.doraGroup)));
    await renderWithApi(<DashboardPage />);
    expect(await screen.findByText(f.doraGroup.items[0].id)).toBeInTheDocument();
    expect(textOf('DORA per group (30 days)')).toMatch(UNDER_2024_LIGHT);
  });

  it("on a team's card", async () => {
    const row = f.doraGroup.items.find(r => r.id === 'risk-it')!;
    const egretDora = { ...f.doraGroup, groupBy: 'team', items: [{ ...row, id: 'team-egret' }] };
    server.use(
      answer('/risk/top', f.riskTopWhere(r => r.team === 'team-egret'), { team: 'team-egret' }),
      answer('/kpis/slo', { ...f.sloTeam, items: f.sloTeam.items.filter(r => r.id === 'team-egret') }),
      answer('/kpis/dora', inLight2024(egretDora), { team: 'team-egret' }),
    );
    await renderWithApi(<TeamCard />, teamEgret);
    const heading = await screen.findByRole('heading', { name: 'DORA (last 30 days)' });
    const section = heading.closest('section')!;
    expect(await within(section).findByText('team-egret')).toBeInTheDocument();
    expect(section).toHaveTextContent(UNDER_2024_LIGHT);
  });

  it("on an entity's DORA card", async () => {
    server.use(
      answer('/applications/:id/summary', f.summaryProfiles),
      answer('/kpis/dora', inLight2024(f.doraApp)),
    );
    await renderWithApi(<EntityDoraCard entity={{ level: 'applications', id: 'profiles' }} period="last_7d" />);
    expect(await screen.findByText('profiles')).toBeInTheDocument();
    expect(textOf('DORA')).toMatch(UNDER_2024_LIGHT);
  });

  // The API's defaults are named too: a reader cannot tell them from an unnamed choice otherwise.
  it('names the defaults when the API answers under them', async () => {
    server.use(
      answer('/applications/:id/summary', f.summaryProfiles),
      answer('/kpis/dora', f.doraApp),
    );
    await renderWithApi(<EntityDoraCard entity={{ level: 'applications', id: 'profiles' }} period="last_7d" />);
    expect(await screen.findByText('profiles')).toBeInTheDocument();
    expect(textOf('DORA')).toMatch(/bands 2023, full correlation/);
  });
});
