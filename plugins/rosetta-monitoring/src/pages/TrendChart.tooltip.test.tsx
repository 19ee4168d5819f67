import { waitFor } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { giveChartsASize, hoverChart } from '../__testUtils__/charts';
import { DashboardPage } from './DashboardPage';

/*
 * Three days of the estate's trend. On 27 November nothing was served (no requests, so no error rate) and the
 * incidents had not been read yet (the lake read ServiceNow from the 28th): its error rate and incidents opened are
 * unknown, while its deployments were read and number 0.
 */
const trend = [
  { day: '2026-11-26', requests: 1000, errors: 2, errorRate: 0.002, incidentsOpened: 1, deployments: 3, deploymentChangeFailures: 0, changesImplemented: 1 },
  { day: '2026-11-27', requests: null, errors: null, errorRate: null, incidentsOpened: null, deployments: 0, deploymentChangeFailures: 0, changesImplemented: null },
  { day: '2026-11-28', requests: 4000, errors: 4, errorRate: 0.001, incidentsOpened: 0, deployments: 2, deploymentChangeFailures: 0, changesImplemented: 0 },
];

describe('trend charts tooltip', () => {
  registerServer();
  let restore: () => void;
  beforeEach(async () => {
    restore = giveChartsASize();
    server.use(answer('/overview', { ...f.overview, trend }), answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DashboardPage />);
    await waitFor(() => {
      if (document.querySelectorAll('.recharts-wrapper').length !== 2) throw new Error('the two trend charts are not drawn yet');
    });
  });
  afterEach(() => restore());

  // The middle of the chart's 800 pixels is the middle of its three days, 27 November: hovering it named the day and
  // nothing else, as if the day had no error rate line at all.
  it('says a day without traffic has no error rate, not nothing', async () => {
    // The trends' second chart is the error rate's.
    const tooltip = await hoverChart(1, 400);
    expect(tooltip.label).toBe('2026-11-27');
    expect(tooltip.items).toEqual(['Error rate : no data']);
  });

  // 0 deployments were read for the day; its incidents were not read at all: a count of 0, and no data, not 0.
  it('says a day whose incidents were not read has no data, beside the deployments it counted', async () => {
    const tooltip = await hoverChart(0, 400);
    expect(tooltip.label).toBe('2026-11-27');
    expect(tooltip.items).toEqual(['Deployments : 0', 'Incidents opened : no data']);
  });

  // 2 errors in 1,000 requests: 0.200 % (three decimals, as the chart's axis reads); 26 November is the first day.
  it("gives a measured day's error rate in percent", async () => {
    const tooltip = await hoverChart(1, 80);
    expect(tooltip.label).toBe('2026-11-26');
    expect(tooltip.items).toEqual(['Error rate : 0.200%']);
  });
});
