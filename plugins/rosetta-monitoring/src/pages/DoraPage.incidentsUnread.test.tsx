import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DoraPage } from './DoraPage';

/** The cells of the row of application `id` in the DORA table. */
async function cellsOf(id: string): Promise<string[]> {
  const row = (await screen.findByRole('cell', { name: id })).closest('tr')!;
  return Array.from(row.querySelectorAll('td'), cell => cell.textContent ?? '');
}

describe('DORA page while ServiceNow is not read', () => {
  registerServer();

  // ServiceNow's incidents were read up to 18 November 00:00 UTC and the period ends on 28 November: billing's change
  // failure rate (2 of 20 deployments, 10.0 %), its median recovery (5.5 h) and its rework (deployments that fixed an
  // incident, 1 of 20, 5.0 %) count only the incidents read before then, and their cells say so. Booking's period was
  // read to its end (incidentsReadUntil null): no note.
  it('says how far incidents were read beside the figures built on them', async () => {
    const [billing, booking] = f.doraApp.items;
    const figures = {
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
    };
    const stale = { ...billing, ...figures, incidentsReadUntil: '2026-11-18T00:00:00Z' };
    const whole = { ...booking, ...figures, incidentsReadUntil: null };
    server.use(answer('/kpis/dora', { ...f.doraApp, items: [stale, whole] }));
    await renderWithApi(<DoraPage />);
    const [, , , staleFailures, staleRecovery, staleRework] = await cellsOf(billing.id);
    expect(staleFailures).toBe('10.0% · high · incidents read only up to 2026-11-18 00:00:00 UTC');
    expect(staleRecovery).toBe('5.5 h · high · incidents read only up to 2026-11-18 00:00:00 UTC');
    expect(staleRework).toBe('5.0% (1 of 20) · incidents read only up to 2026-11-18 00:00:00 UTC');
    const [, , , failures, recovery, rework] = await cellsOf(booking.id);
    expect(failures).toBe('10.0% · high');
    expect(recovery).toBe('5.5 h · high');
    expect(rework).toBe('5.0% (1 of 20)');
  });
});
