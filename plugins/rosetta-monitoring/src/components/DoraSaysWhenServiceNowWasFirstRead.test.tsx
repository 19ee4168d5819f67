import { screen, within } from '@testing-library/react';
import { answer, DORA_FIGURES, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { DoraRow } from '../api/types';
import { DoraPage } from '../pages/DoraPage';
import { EntityDoraCard } from './EntityDoraCard';

/*
 * The recorded report's period runs from 21 November 08:00 to 28 November 08:00 UTC. A lake that first read
 * ServiceNow's incidents or change requests after its start counts, in the figures found through them, only what it
 * read since (incidents: change failure rate, recovery, rework and MTTR; changes: all but MTTR); one that first read
 * them at or after its end read none of them over it, and those figures are 'insufficient data'.
 */
const FIGURES = {
  ...DORA_FIGURES,
  deploymentsReadUntil: null,
  incidentsReadUntil: null,
  changesReadUntil: null,
  incidentsReadFrom: null,
  changesReadFrom: null,
};

/** The figures found through a source ServiceNow did not give over the period: none, as the API answers them. */
const FAILURES_UNKNOWN = {
  changeFailureRate: null,
  changeFailureLevel: null,
  changeFailureState: 'insufficient data',
  recoveryMedianHours: null,
  recoveryLevel: null,
  recoveryState: 'insufficient data',
  reworkRate: null,
  reworkNumerator: null,
  reworkState: 'insufficient data',
};
const MTTR_UNKNOWN = { mttrMedianHours: null, mttrLevel: null, mttrState: 'insufficient data' };

const [billing, booking, , profiles] = f.doraApp.items as DoraRow[];

/** The cells of the row named `id` in the DORA table, by column title. */
async function cellsOf(id: string): Promise<Record<string, string>> {
  const row = (await screen.findByRole('cell', { name: id })).closest('tr')!;
  const table = row.closest('table')!;
  const titles = within(table)
    .getAllByRole('columnheader')
    .map(h => h.textContent ?? '');
  const cells = Array.from(row.querySelectorAll('td'), cell => cell.textContent ?? '');
  return Object.fromEntries(titles.map((title, i) => [title, cells[i]]));
}

/** Billing's row with `read` (and figures as given), booking's read from the period's start, on the SRE/DORA view. */
async function renderBilling(read: Partial<DoraRow>) {
  const rows = [
    { ...billing, ...FIGURES, ...read },
    { ...booking, ...FIGURES },
  ];
  server.use(answer('/kpis/dora', { ...f.doraApp, items: rows }));
  await renderWithApi(<DoraPage />);
  return { billing: await cellsOf('billing'), booking: await cellsOf('booking') };
}

describe('the DORA table says from when ServiceNow was read', () => {
  registerServer();

  it('says since when incidents were read beside the figures found through them', async () => {
    const cells = await renderBilling({ incidentsReadFrom: '2026-11-24T06:30:00Z' });
    const note = ' · incidents read since 2026-11-24';
    expect(cells.billing['Change failure rate']).toBe(`10.0% · high${note}`);
    expect(cells.billing['Recovery time (median)']).toBe(`5.5 h · high${note}`);
    expect(cells.billing['MTTR (median)']).toBe(`2.5 h · high${note}`);
    expect(cells.billing['Rework rate']).toBe(`5.0% (1 of 20)${note}`);
    // The deployment frequency and lead time find nothing through ServiceNow.
    expect(cells.billing['Deployment frequency']).not.toContain('read since');
    expect(cells.billing['Lead time (median)']).toBe('30.0 h · high');
    // Booking's period was read from its start: no note.
    expect(Object.values(cells.booking).join()).not.toContain('read since');
  });

  it('says since when changes were read too, and not beside MTTR, which counts incidents alone', async () => {
    const cells = await renderBilling({
      incidentsReadFrom: '2026-11-24T06:30:00Z',
      changesReadFrom: '2026-11-25T12:00:00Z',
    });
    const notes = ' · incidents read since 2026-11-24 · changes read since 2026-11-25';
    expect(cells.billing['Change failure rate']).toBe(`10.0% · high${notes}`);
    expect(cells.billing['Recovery time (median)']).toBe(`5.5 h · high${notes}`);
    expect(cells.billing['Rework rate']).toBe(`5.0% (1 of 20)${notes}`);
    expect(cells.billing['MTTR (median)']).toBe('2.5 h · high · incidents read since 2026-11-24');
  });

  it('says insufficient data comes of incidents first read after the period', async () => {
    const cells = await renderBilling({
      incidentsReadFrom: '2026-11-29T10:00:00Z',
      ...FAILURES_UNKNOWN,
      ...MTTR_UNKNOWN,
    });
    const state =
      '(insufficient data: ServiceNow not read over the period, incidents first read 2026-11-29 10:00:00 UTC)';
    expect(cells.billing['Change failure rate']).toBe(`– ${state}`);
    expect(cells.billing['Recovery time (median)']).toBe(`– ${state}`);
    expect(cells.billing['MTTR (median)']).toBe(`– ${state}`);
    expect(cells.billing['Rework rate']).toBe(`– ${state}`);
    expect(cells.billing['Lead time (median)']).toBe('30.0 h · high');
  });

  // Change requests first read at the very end of the period: none of them read over it. MTTR needs no change.
  it('says insufficient data comes of changes first read at the period end, and names both when both', async () => {
    const cells = await renderBilling({
      incidentsReadFrom: '2026-11-30T00:00:00Z',
      changesReadFrom: '2026-11-28T08:00:00Z',
      ...FAILURES_UNKNOWN,
    });
    const state =
      '(insufficient data: ServiceNow not read over the period, incidents first read 2026-11-30 00:00:00 UTC, ' +
      'changes first read 2026-11-28 08:00:00 UTC)';
    expect(cells.billing['Change failure rate']).toBe(`– ${state}`);
    expect(cells.billing['Recovery time (median)']).toBe(`– ${state}`);
    expect(cells.billing['Rework rate']).toBe(`– ${state}`);
  });

  // No median to take from incidents read over the whole period: insufficient data, with no word of ServiceNow.
  it('keeps a bare insufficient data when ServiceNow was read', async () => {
    const cells = await renderBilling({ ...MTTR_UNKNOWN });
    expect(cells.billing['MTTR (median)']).toBe('– (insufficient data)');
  });

  it("says so on an entity's DORA card", async () => {
    server.use(
      answer('/applications/:id/summary', f.summaryProfiles),
      answer('/kpis/dora', {
        ...f.doraApp,
        items: [
          {
            ...profiles,
            ...FIGURES,
            ...FAILURES_UNKNOWN,
            incidentsReadFrom: '2026-11-24T06:30:00Z',
            changesReadFrom: '2026-11-29T10:00:00Z',
          },
        ],
      }),
    );
    await renderWithApi(<EntityDoraCard entity={{ level: 'applications', id: 'profiles' }} period="last_7d" />);
    const cells = await cellsOf('profiles');
    const state =
      '(insufficient data: ServiceNow not read over the period, changes first read 2026-11-29 10:00:00 UTC)';
    expect(cells['Change failure rate']).toBe(`– ${state} · incidents read since 2026-11-24`);
    expect(cells['MTTR (median)']).toBe('2.5 h · high · incidents read since 2026-11-24');
  });
});
