import { screen, within } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { IncidentsCard } from './IncidentsCard';
import { DashboardPage } from '../pages/DashboardPage';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

/**
 * Every column header's controls. The tables come ordered by what they show (riskiest, latest, largest backlog first);
 * their headers had a sort button that sorted nothing on most columns and never said the order, and a drag handle
 * beside it, so a keyboard user tabbed twice through every column of every table.
 */
function headerControls(table: HTMLElement): HTMLElement[] {
  return within(table)
    .getAllByRole('columnheader')
    .flatMap(header => within(header).queryAllByRole('button'));
}

describe('table headers', () => {
  registerServer();

  it("are plain headers in the incidents card, no control a keyboard user stops on", async () => {
    server.use(answer('/applications/:id/incidents', f.incidentsProfiles));
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    const header = await screen.findAllByRole('columnheader', { name: 'Opened' });
    for (const table of header.map(h => h.closest('table')!)) {
      expect(headerControls(table)).toEqual([]);
    }
  });

  it('are plain headers in the dashboard tables', async () => {
    server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DashboardPage />);
    await screen.findByRole('columnheader', { name: 'Rework rate' });
    const tables = screen.getAllByRole('table');
    expect(tables.length).toBe(3);
    for (const table of tables) {
      expect(headerControls(table)).toEqual([]);
    }
  });
});
