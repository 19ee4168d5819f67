import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { giveChartsASize } from '../__testUtils__/charts';
import type { Overview } from '../api/types';
import { DashboardPage } from './DashboardPage';

type Day = Overview['trend'][number];

/** The recorded 31 days (29 Oct to 28 Nov) with `change` applied to the first `days` of them. */
const firstDays = (days: number, change: Partial<Day>): Day[] =>
  f.overview.trend.map((day, i) => (i < days ? { ...day, ...change } : day));

/** The chart of deployments and incidents, found by the name a screen reader hears. */
const trendChart = (totals: string) =>
  screen.findByRole('application', {
    name: `Deployments and incidents opened per day, 2026-10-29 to 2026-11-28: ${totals}`,
  });

// A day the lake had not read deployments or incidents yet is unknown (null), not a day without any: the chart's name
// added such days as 0 and read as the whole month's totals. The recorded trend's last 11 days (18 to 28 Nov) hold
// 3+9+4+1+0+4+3+4+3+2+1 = 34 deployments and 3+1+3+1+1+3+0+1+0+0+1 = 14 incidents opened; its first 20 hold none.
describe("the dashboard's trend chart, named with days unknown", () => {
  registerServer();
  let restore: () => void;
  beforeEach(() => {
    restore = giveChartsASize();
  });
  afterEach(() => restore());

  it('says on how many days its counts are unknown', async () => {
    const trend = firstDays(20, { deployments: null, incidentsOpened: null });
    server.use(answer('/overview', { ...f.overview, trend }), answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DashboardPage />);
    expect(await trendChart('34 deployments, 14 incidents opened, 20 of 31 days unknown')).toBeInTheDocument();
  });

  it('says it of each count when they are unknown on a different number of days', async () => {
    const trend = firstDays(20, { deployments: null });
    server.use(answer('/overview', { ...f.overview, trend }), answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DashboardPage />);
    expect(await trendChart('34 deployments (20 of 31 days unknown), 14 incidents opened')).toBeInTheDocument();
  });

  it('says a count unknown on every day is unknown, not 0', async () => {
    const trend = firstDays(31, { deployments: null, incidentsOpened: null });
    server.use(answer('/overview', { ...f.overview, trend }), answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DashboardPage />);
    expect(await trendChart('deployments unknown, incidents opened unknown')).toBeInTheDocument();
  });
});
