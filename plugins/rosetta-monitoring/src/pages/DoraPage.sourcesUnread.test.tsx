import { screen } from '@testing-library/react';
import {
  answer,
  DORA_FIGURES as FIGURES,
  registerServer,
  renderWithApi,
  server,
} from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DoraPage } from './DoraPage';

/** The cells of the row of application `id` in the DORA table. */
async function cellsOf(id: string): Promise<string[]> {
  const row = (await screen.findByRole('cell', { name: id })).closest('tr')!;
  return Array.from(row.querySelectorAll('td'), cell => cell.textContent ?? '');
}

type ReadUntil = {
  deploymentsReadUntil: string | null;
  incidentsReadUntil: string | null;
  changesReadUntil: string | null;
};
const READ_WHOLE: ReadUntil = { deploymentsReadUntil: null, incidentsReadUntil: null, changesReadUntil: null };

/** Billing's row with the watermarks `unread` gives (the others read to the period's end), booking's read whole. */
async function renderRows(unread: Partial<ReadUntil>) {
  const [billing, booking] = f.doraApp.items;
  const stale = { ...billing, ...FIGURES, ...READ_WHOLE, ...unread };
  const whole = { ...booking, ...FIGURES, ...READ_WHOLE };
  server.use(answer('/kpis/dora', { ...f.doraApp, items: [stale, whole] }));
  await renderWithApi(<DoraPage />);
  return { stale: await cellsOf(billing.id), whole: await cellsOf(booking.id) };
}

// The period ends on 28 November. A source read only up to a day before leaves the figures found through it short of
// what came after: each cell built on it says how far it was read. Booking's period was read to its end: no note.
describe('DORA page while a source is not read', () => {
  registerServer();

  // Incidents read up to 18 November: the change failures found through an incident, the recovery times, the
  // restored incidents (MTTR) and the deployments that fixed an incident (rework) count only those read; frequency
  // and lead time rest on none.
  it('says how far incidents were read beside the figures built on them', async () => {
    const { stale, whole } = await renderRows({ incidentsReadUntil: '2026-11-18T00:00:00Z' });
    const [, frequency, lead, failures, recovery, mttr, rework] = stale;
    const note = ' · incidents read only up to 2026-11-18 00:00:00 UTC';
    expect([failures, recovery, mttr, rework]).toEqual([
      `10.0% · high${note}`,
      `5.5 h · high${note}`,
      `2.5 h · high${note}`,
      `5.0% (1 of 20)${note}`,
    ]);
    expect([frequency, lead].join()).not.toContain('read only');
    for (const cell of whole.slice(1)) expect(cell).not.toContain('read only');
  });

  // Change requests read up to 17 November, incidents up to the 18th: the failure, recovery and rework cells name
  // both, in that order.
  it('says how far changes were read beside the figures built on them, and incidents too', async () => {
    const { stale } = await renderRows({
      incidentsReadUntil: '2026-11-18T00:00:00Z',
      changesReadUntil: '2026-11-17T00:00:00Z',
    });
    const [, frequency, lead, failures, recovery, mttr, rework] = stale;
    const notes =
      ' · incidents read only up to 2026-11-18 00:00:00 UTC · changes read only up to 2026-11-17 00:00:00 UTC';
    expect([failures, recovery, rework]).toEqual([
      `10.0% · high${notes}`,
      `5.5 h · high${notes}`,
      `5.0% (1 of 20)${notes}`,
    ]);
    expect([frequency, lead].join()).not.toContain('read only');
    // MTTR counts incidents alone: no change request bears on it.
    expect(mttr).toBe('2.5 h · high · incidents read only up to 2026-11-18 00:00:00 UTC');
  });

  // Deployments read up to 16 November (GitLab down since): every figure but MTTR, which counts incidents alone,
  // rests on them, each cell says so.
  it('says how far deployments were read beside every figure found through them', async () => {
    const { stale } = await renderRows({ deploymentsReadUntil: '2026-11-16T00:00:00Z' });
    const [, frequency, lead, failures, recovery, mttr, rework] = stale;
    const note = ' · deployments read only up to 2026-11-16 00:00:00 UTC';
    expect(frequency.startsWith('0.50/day · high') && frequency.endsWith(note)).toBe(true);
    expect([lead, failures, recovery, rework]).toEqual([
      `30.0 h · high${note}`,
      `10.0% · high${note}`,
      `5.5 h · high${note}`,
      `5.0% (1 of 20)${note}`,
    ]);
    expect(mttr).toBe('2.5 h · high');
  });
});
