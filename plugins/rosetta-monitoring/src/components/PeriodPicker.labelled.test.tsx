import { fireEvent, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { API, answer, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { MonitoringTab } from './MonitoringTab';
import { SloPage } from '../pages/SloPage';

// Backstage's Select shows its label above the control but does not tie it to it: a screen reader announced the
// period picker as "Last 7 days, button", without saying what the choice is of.
describe('pickers', () => {
  registerServer();

  it("names the tab's period picker by its label and its value", async () => {
    server.use(http.get(`${API}/*`, () => HttpResponse.json({ title: 'Internal error', status: 500, detail: 'boom' }, { status: 500 })));
    await renderWithApi(<MonitoringTab />, profilesSystem);
    const picker = await screen.findByRole('button', { name: 'Period Last 7 days' });
    fireEvent.mouseDown(picker);
    fireEvent.click(await screen.findByRole('option', { name: 'Last 30 days' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Period Last 30 days' })).toBeInTheDocument());
  });

  it("names the KPI views' grouping and period pickers", async () => {
    server.use(answer('/kpis/slo', f.sloTeam));
    await renderWithApi(<SloPage />);
    expect(await screen.findByRole('button', { name: 'Group by Team' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Period Last 30 days' })).toBeInTheDocument();
  });
});
