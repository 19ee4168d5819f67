import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { cellsOfColumn } from '../__testUtils__/tables';
import type { DoraRow } from '../api/types';
import { DoraPage } from '../pages/DoraPage';
import { EntityDoraCard } from './EntityDoraCard';

/*
 * Time to restore service (MTTR: incidents opened to restored, the median), one of the SRE/DORA view's four keys, made
 * by hand on the recorded rows:
 *   billing: 0.7619 h, 45.7 minutes, elite: "45 min · elite" (cut, never rounded up);
 *   booking: 25.97 h, medium: "25.9 h · medium";
 *   partners: its application tied to no ServiceNow CI: no median, "– (not mapped)";
 *   profiles: 66.05 h, medium (a day to a week), with ServiceNow's incidents read only up to 26 November: the cell
 *     says so; its deployments, read only up to 25 November, do not bear on MTTR, which counts no deployment.
 */
const [billing, booking, partners, profiles] = f.doraApp.items as DoraRow[];
const ROWS: DoraRow[] = [
  { ...billing, mttrMedianHours: 0.7619444444444444, mttrLevel: 'elite', mttrState: 'ok' },
  { ...booking, mttrMedianHours: 25.97388888888889, mttrLevel: 'medium', mttrState: 'ok' },
  { ...partners, mttrMedianHours: null, mttrLevel: null, mttrState: 'not mapped' },
  {
    ...profiles,
    mttrMedianHours: 66.05361111111111,
    mttrLevel: 'medium',
    mttrState: 'ok',
    incidentsReadUntil: '2026-11-26T00:00:00Z',
    deploymentsReadUntil: '2026-11-25T00:00:00Z',
  },
];

/** The MTTR cell of each row of the DORA table, by the row's id. */
const mttrCells = () => cellsOfColumn('MTTR (median)');

describe('the DORA table shows the time to restore service (MTTR)', () => {
  registerServer();

  it('on the SRE/DORA view, with its level, its state, and how far the incidents were read', async () => {
    server.use(answer('/kpis/dora', { ...f.doraApp, items: ROWS }));
    await renderWithApi(<DoraPage />);
    expect(await mttrCells()).toEqual({
      billing: '45 min · elite',
      booking: '25.9 h · medium',
      partners: '– (not mapped)',
      profiles: '66.0 h · medium · incidents read only up to 2026-11-26 00:00:00 UTC',
    });
  });

  // The recorded answer as the API gives it, each median graded on the recovery time's bands (elite under an hour,
  // high under a day, medium under a week): partners' 1.97 h reads 1.9 h, cut.
  it('with the level the API grades each recorded row at', async () => {
    server.use(answer('/kpis/dora', f.doraApp));
    await renderWithApi(<DoraPage />);
    expect(await mttrCells()).toEqual({
      billing: '45 min · elite',
      booking: '25.9 h · medium',
      partners: '1.9 h · high',
      profiles: '66.0 h · medium',
    });
  });

  it("on an entity's DORA card", async () => {
    server.use(
      answer('/applications/:id/summary', f.summaryProfiles),
      answer('/kpis/dora', { ...f.doraApp, items: ROWS }),
    );
    await renderWithApi(<EntityDoraCard entity={{ level: 'applications', id: 'profiles' }} period="last_7d" />);
    expect(await mttrCells()).toEqual({
      profiles: '66.0 h · medium · incidents read only up to 2026-11-26 00:00:00 UTC',
    });
  });
});
