import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { cellsOfColumn } from '../__testUtils__/tables';
import type { DoraRow } from '../api/types';
import { DashboardPage } from '../pages/DashboardPage';
import { DoraPage } from '../pages/DoraPage';

/*
 * The recovery time is the median over the change failures that recovered: the cell counts beside it those still not
 * recovered at the build's as-of (changeFailuresNotRecovered), made by hand on these rows:
 *   billing: 3 change failures, one recovered in 2 h (high: under a day), two still open: "2.0 h · high · 2 not
 *     recovered", where it read "2.0 h · high" as if every failure had recovered;
 *   booking: 1 change failure, recovered in 2.6469 h, none open: "2.6 h · high", nothing more;
 *   partners: 2 change failures, none recovered: the state says so, "– (not recovered)", with no count repeated.
 * The recorded group answer: finance-it's 2 change failures, 1 recovered in 2.6469 h: "2.6 h · high · 1 not
 * recovered"; risk-it's 1, not recovered: "– (not recovered)".
 */
const [billing, booking, partners] = f.doraApp.items as DoraRow[];
const ROWS: DoraRow[] = [
  {
    ...billing,
    changeFailureNumerator: 3,
    recoverySample: 1,
    recoveryMedianHours: 2,
    recoveryState: 'ok',
    recoveryLevel: 'high',
    changeFailuresNotRecovered: 2,
  },
  {
    ...booking,
    changeFailureNumerator: 1,
    recoverySample: 1,
    recoveryMedianHours: 2.6469444444444443,
    recoveryState: 'ok',
    recoveryLevel: 'high',
    changeFailuresNotRecovered: 0,
  },
  {
    ...partners,
    changeFailureNumerator: 2,
    recoverySample: 0,
    recoveryMedianHours: null,
    recoveryState: 'not recovered',
    recoveryLevel: null,
    changeFailuresNotRecovered: 2,
  },
];

/** The recovery time cell of each row of the DORA table, by the row's id. */
const recoveryCells = () => cellsOfColumn('Recovery time (median)');

describe('the DORA table counts the change failures not recovered beside the recovery time', () => {
  registerServer();

  it('on the SRE/DORA view', async () => {
    server.use(answer('/kpis/dora', { ...f.doraApp, items: ROWS }));
    await renderWithApi(<DoraPage />);
    expect(await recoveryCells()).toEqual({
      billing: '2.0 h · high · 2 not recovered',
      booking: '2.6 h · high',
      partners: '– (not recovered)',
    });
  });

  it("on the dashboard's DORA per group, as the API recorded it", async () => {
    server.use(answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DashboardPage />);
    await screen.findByText('finance-it');
    expect(await recoveryCells()).toEqual({
      'finance-it': '2.6 h · high · 1 not recovered',
      'risk-it': '– (not recovered)',
    });
  });
});
