import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DoraPage } from './DoraPage';

/** The cells of the row of application `id` in the DORA table. */
async function cellsOf(id: string): Promise<string[]> {
  const row = (await screen.findByRole('cell', { name: id })).closest('tr')!;
  return Array.from(row.querySelectorAll('td'), cell => cell.textContent ?? '');
}

describe('DORA page while a deployment source is not read', () => {
  registerServer();

  // Deployments were read up to 16 November 00:00 UTC (GitLab down since) and the period ends on 28 November: every
  // figure of billing rests on the deployments read before then, and each cell says so; the failure, recovery and
  // rework cells name ServiceNow's incidents too, read only up to the 18th. Booking's period was read to its end.
  it('says how far deployments were read beside every figure found through them', async () => {
    const [billing, booking] = f.doraApp.items;
    const figures = {
      deploymentFrequencyPerDay: 0.5,
      deploymentFrequencyLevel: 'high',
      deploymentFrequencyState: 'ok',
      deploymentsFrom: null,
      leadTimeMedianHours: 30,
      leadTimeLevel: 'high',
      leadTimeState: 'ok',
      changeFailureRate: 0.1,
      changeFailureLevel: 'high',
      changeFailureState: 'ok',
      recoveryMedianHours: 5.5,
      recoveryLevel: 'high',
      recoveryState: 'ok',
      reworkRate: 0.05,
      reworkNumerator: 1,
      reworkDenominator: 20,
      reworkState: 'ok',
      changesReadUntil: null,
    };
    const stale = {
      ...billing,
      ...figures,
      deploymentsReadUntil: '2026-11-16T00:00:00Z',
      incidentsReadUntil: '2026-11-18T00:00:00Z',
    };
    const whole = { ...booking, ...figures, deploymentsReadUntil: null, incidentsReadUntil: null };
    server.use(answer('/kpis/dora', { ...f.doraApp, items: [stale, whole] }));
    await renderWithApi(<DoraPage />);
    const deployments = ' · deployments read only up to 2026-11-16 00:00:00 UTC';
    const both = `${deployments} · incidents read only up to 2026-11-18 00:00:00 UTC`;
    const [, frequency, lead, failures, recovery, rework] = await cellsOf(billing.id);
    expect(frequency.startsWith('0.50/day · high')).toBe(true);
    expect(frequency.endsWith(deployments)).toBe(true);
    expect(lead).toBe(`30.0 h · high${deployments}`);
    expect(failures).toBe(`10.0% · high${both}`);
    expect(recovery).toBe(`5.5 h · high${both}`);
    expect(rework).toBe(`5.0% (1 of 20)${both}`);
    for (const cell of (await cellsOf(booking.id)).slice(1)) expect(cell).not.toContain('read only');
  });
});
