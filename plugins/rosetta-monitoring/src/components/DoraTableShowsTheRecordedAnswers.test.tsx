import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { departuresFromSchema } from '../__testUtils__/openApi';
import { cellsOfColumn } from '../__testUtils__/tables';
import type { DoraRow } from '../api/types';
import { DoraPage } from '../pages/DoraPage';

/** The recorded answers of kpis/dora: a recording short of a field the API sends would leave its rendering untested. */
const RECORDED = { 'dora-app': f.doraApp, 'dora-group': f.doraGroup };

/**
 * The deployment frequency's level under the 2023 bands, from the days, weeks and months holding a deployment, as the
 * API grades it: daily (elite) on as many days as the period holds working days (5 of each whole week, and all but 2
 * of the days left over), weekly (high) on every whole week, monthly (medium) on every whole month of 31 days.
 */
function cadenceLevel(r: DoraRow): string | null {
  const days = r.deploymentFrequencyDenominatorDays!;
  if (!r.deploymentFrequencyNumerator) return null;
  const weeks = Math.floor(days / 7);
  const workingDays = 5 * weeks + Math.max(Math.floor(days - 7 * weeks) - 2, 0);
  if (r.daysWithDeployments! >= workingDays) return 'elite';
  if (r.weeksWithDeployments! >= weeks) return 'high';
  if (r.monthsWithDeployments! >= Math.floor(days / 31)) return 'medium';
  return 'low';
}

describe('the recorded DORA answers', () => {
  registerServer();

  it.each(Object.entries(RECORDED))("%s holds every field of the API's DoraReport", (_, recorded) => {
    expect(departuresFromSchema(recorded, 'DoraReport')).toEqual([]);
  });

  it('are found short when a field the API sends is missing', () => {
    const { page, items } = f.doraApp;
    const lacking: Record<string, unknown> = { ...items[0] };
    delete lacking.daysWithDeployments;
    const short = { ...f.doraApp, items: [lacking], page: { limit: page.limit, nextCursor: page.nextCursor } };
    expect(departuresFromSchema(short, 'DoraReport')).toEqual([
      'DoraReport.items[0].daysWithDeployments: missing',
      'DoraReport.page.total: missing (required)',
    ]);
  });

  // The recorded days, weeks and months holding a deployment are the basis of each row's level: billing deployed on
  // 1 of 7 days (high: every whole week), partners on 5 (elite: the 5 working days of the week), profiles on 4 (high);
  // finance-it and risk-it on 8 of 30 days in 4 weeks (high: 20 days would be daily).
  it('give each row the frequency level its days, weeks and months with deployments meet', () => {
    const rows = [...f.doraApp.items, ...f.doraGroup.items] as DoraRow[];
    expect(rows.map(cadenceLevel)).toEqual(rows.map(r => r.deploymentFrequencyLevel));
  });

  // billing's one deployment in the 7 days is 0.14/day; booking deployed none, so its rework rate has no deployments to
  // count over; partners' 10 on 5 days, 1.43/day; profiles' 6 on 4 days, 0.86/day.
  it('read with the days that held a deployment and the rework state', async () => {
    server.use(answer('/kpis/dora', f.doraApp));
    await renderWithApi(<DoraPage />);
    expect(await cellsOfColumn('Deployment frequency')).toEqual({
      billing: '0.14/day · high, on 1 of 7 days',
      booking: '0.00/day (no deployments)',
      partners: '1.43/day · elite, on 5 of 7 days',
      profiles: '0.86/day · high, on 4 of 7 days',
    });
    expect(await cellsOfColumn('Rework rate')).toEqual({
      billing: '0.0% (0 of 1)',
      booking: '– (no deployments)',
      partners: '0.0% (0 of 10)',
      profiles: '0.0% (0 of 6)',
    });
  });

  // finance-it's 19 deployments over 30 days are 0.63/day, risk-it's 15 0.50/day, each on 8 of the days.
  it('by group, over 30 days', async () => {
    server.use(answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DoraPage />);
    expect(await cellsOfColumn('Deployment frequency')).toEqual({
      'finance-it': '0.63/day · high, on 8 of 30 days',
      'risk-it': '0.50/day · high, on 8 of 30 days',
    });
  });
});
