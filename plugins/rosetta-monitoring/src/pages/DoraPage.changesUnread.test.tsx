import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DoraPage } from './DoraPage';

/** The cells of the row of application `id` in the DORA table. */
async function cellsOf(id: string): Promise<string[]> {
  const row = (await screen.findByRole('cell', { name: id })).closest('tr')!;
  return Array.from(row.querySelectorAll('td'), cell => cell.textContent ?? '');
}

describe("DORA page while ServiceNow's change requests are not read", () => {
  registerServer();

  // Change requests were read up to 17 November 00:00 UTC, incidents up to 18 November, and the period ends on
  // 28 November: billing's change failure rate (3 of 20 deployments, 15.0 %), its median recovery (2.0 h) and its
  // rework (1 of 20, 5.0 %) count only what was read of both, and their cells name both. Booking's changes alone were
  // not read to the end: only they are named. The lead time and the frequency rest on neither: no note there.
  it('says how far changes were read beside the figures built on them, and incidents too', async () => {
    const [billing, booking] = f.doraApp.items;
    const figures = {
      changeFailureRate: 0.15,
      changeFailureLevel: 'medium',
      changeFailureState: 'ok',
      recoveryMedianHours: 2,
      recoveryLevel: 'high',
      recoveryState: 'ok',
      reworkRate: 0.05,
      reworkNumerator: 1,
      reworkDenominator: 20,
      reworkState: 'ok',
    };
    const both = {
      ...billing,
      ...figures,
      incidentsReadUntil: '2026-11-18T00:00:00Z',
      changesReadUntil: '2026-11-17T00:00:00Z',
    };
    const changesOnly = { ...booking, ...figures, incidentsReadUntil: null, changesReadUntil: '2026-11-17T00:00:00Z' };
    server.use(answer('/kpis/dora', { ...f.doraApp, items: [both, changesOnly] }));
    await renderWithApi(<DoraPage />);
    const notes =
      ' · incidents read only up to 2026-11-18 00:00:00 UTC · changes read only up to 2026-11-17 00:00:00 UTC';
    const [, frequency, lead, failures, recovery, rework] = await cellsOf(billing.id);
    expect(failures).toBe(`15.0% · medium${notes}`);
    expect(recovery).toBe(`2.0 h · high${notes}`);
    expect(rework).toBe(`5.0% (1 of 20)${notes}`);
    expect(frequency).not.toContain('read only');
    expect(lead).not.toContain('read only');
    const changes = ' · changes read only up to 2026-11-17 00:00:00 UTC';
    const [, , , onlyFailures, onlyRecovery, onlyRework] = await cellsOf(booking.id);
    expect(onlyFailures).toBe(`15.0% · medium${changes}`);
    expect(onlyRecovery).toBe(`2.0 h · high${changes}`);
    expect(onlyRework).toBe(`5.0% (1 of 20)${changes}`);
  });
});
