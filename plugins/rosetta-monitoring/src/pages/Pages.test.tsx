import { fireEvent, screen, within } from '@testing-library/react';
import { answer, problem, registerServer, renderWithApi, server } from '../testing/monitoringServer';
import * as f from '../testing/fixtures';
import { DashboardPage } from './DashboardPage';
import { DoraPage } from './DoraPage';
import { RunPage } from './RunPage';

describe('pages', () => {
  registerServer();

  describe('dashboard', () => {
    it('shows health by domain and team, top risks and DORA per group', async () => {
      server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup, { groupBy: 'group' }));
      await renderWithApi(<DashboardPage />);
      expect(await screen.findByTestId('health-totals')).toHaveTextContent('2 green, 2 orange');
      expect(screen.getByText(f.overview.topRisks[0].appName!)).toBeInTheDocument();
      expect(screen.getAllByText(f.overview.topRisks[0].reasons!.join('; ')).length).toBeGreaterThan(0);
      expect(await screen.findByText(f.doraGroup.items[0].id)).toBeInTheDocument();
    });
    // Every group is listed in "DORA per group", not only those of the report's first page.
    it('lists the DORA groups of every page', async () => {
      const [first, ...rest] = f.doraGroup.items;
      server.use(
        answer('/overview', f.overview),
        answer('/kpis/dora', { ...f.doraGroup, items: rest, page: { limit: 500, nextCursor: null } }, { cursor: 'p2' }),
        answer('/kpis/dora', { ...f.doraGroup, items: [first], page: { limit: 500, nextCursor: 'p2' } }),
      );
      await renderWithApi(<DashboardPage />);
      for (const row of f.doraGroup.items) {
        expect(await screen.findByText(row.id)).toBeInTheDocument();
      }
    });
    it('says when the estate has no figures', async () => {
      server.use(
        answer('/overview', { ...f.overview, health: [], trend: [], topRisks: [] }),
        answer('/kpis/dora', { ...f.doraGroup, items: [] }),
      );
      await renderWithApi(<DashboardPage />);
      expect(await screen.findByText('No health figures in the period')).toBeInTheDocument();
      expect(screen.getByText('No risks in the period')).toBeInTheDocument();
      expect(await screen.findByText('No DORA figures in the period')).toBeInTheDocument();
    });
    it('shows an error panel per widget when the API fails', async () => {
      server.use(problem('/overview', 500, 'Internal error', 'boom'), answer('/kpis/dora', f.doraGroup));
      await renderWithApi(<DashboardPage />);
      expect((await screen.findAllByText(/Could not load health figures/)).length).toBe(1);
      expect(await screen.findByText(f.doraGroup.items[0].id)).toBeInTheDocument();
    });
  });

  describe('SRE/DORA view', () => {
    it('shows each application with its performance levels', async () => {
      server.use(answer('/kpis/dora', f.doraApp));
      await renderWithApi(<DoraPage />);
      for (const row of f.doraApp.items) {
        expect(await screen.findByText(row.id)).toBeInTheDocument();
      }
      expect(screen.getByText('Change failure rate')).toBeInTheDocument();
      // The days the figures cover, from the answer's period (last_7d ending 2026-11-28 08:00 UTC).
      expect(screen.getByText(/^2026-11-21 to 2026-11-28, bands 2023/)).toBeInTheDocument();
    });
    it('asks for a custom range with its last day included', async () => {
      const summer = { ...f.doraApp, period: { name: null, start: '2025-06-01T00:00:00Z', end: '2025-09-01T00:00:00Z' } };
      server.use(
        // The API's `to` leaves its day out: the last day picked, 31 August, means to=2025-09-01.
        answer('/kpis/dora', summer, { groupBy: 'app', from: '2025-06-01', to: '2025-09-01' }),
        answer('/kpis/dora', f.doraApp, { groupBy: 'app', period: 'last_30d' }),
      );
      await renderWithApi(<DoraPage />);
      expect(await screen.findByText(/^2026-11-21 to 2026-11-28/)).toBeInTheDocument();
      fireEvent.change(screen.getByLabelText('First day'), { target: { value: '2025-06-01' } });
      fireEvent.change(screen.getByLabelText('Last day'), { target: { value: '2025-08-31' } });
      fireEvent.click(screen.getByRole('button', { name: 'Show range' }));
      expect(await screen.findByText(/^2025-06-01 to 2025-08-31, bands 2023/)).toBeInTheDocument();
    });
    it('refuses a range whose last day comes before its first', async () => {
      server.use(answer('/kpis/dora', f.doraApp, { groupBy: 'app', period: 'last_30d' }));
      await renderWithApi(<DoraPage />);
      await screen.findByText(/^2026-11-21 to 2026-11-28/);
      fireEvent.change(screen.getByLabelText('First day'), { target: { value: '2025-09-01' } });
      fireEvent.change(screen.getByLabelText('Last day'), { target: { value: '2025-06-01' } });
      fireEvent.click(screen.getByRole('button', { name: 'Show range' }));
      expect(screen.getByRole('alert')).toHaveTextContent('the first on or before the last');
      expect(screen.getByText(/^2026-11-21 to 2026-11-28/)).toBeInTheDocument();
    });
    // Every application of a large estate is listed, not only those of the report's first page.
    it('lists the rows of every page of the report', async () => {
      const [first, ...rest] = f.doraApp.items;
      server.use(
        answer('/kpis/dora', { ...f.doraApp, items: rest, page: { limit: 500, nextCursor: null } }, { cursor: 'p2' }),
        answer('/kpis/dora', { ...f.doraApp, items: [first], page: { limit: 500, nextCursor: 'p2' } }),
      );
      await renderWithApi(<DoraPage />);
      for (const row of f.doraApp.items) {
        expect(await screen.findByText(row.id)).toBeInTheDocument();
      }
    });
    it('says when there is no DORA figure', async () => {
      server.use(answer('/kpis/dora', { ...f.doraApp, items: [] }));
      await renderWithApi(<DoraPage />);
      expect(await screen.findByText('No DORA figures in the period')).toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(problem('/kpis/dora', 500, 'Internal error', 'boom'));
      await renderWithApi(<DoraPage />);
      expect(await screen.findByText(/Could not load DORA figures/)).toBeInTheDocument();
    });
  });

  describe('run view', () => {
    it('shows the backlog per application and the heatmap', async () => {
      server.use(
        answer('/risk/top', f.riskTop),
        answer('/applications/profiles/incidents', f.incidentsProfiles),
        answer('/applications/:id/incidents', { ...f.incidentsProfiles, items: [] }),
      );
      await renderWithApi(<RunPage />);
      expect((await screen.findAllByText('Profiles')).length).toBe(2);
      expect(screen.getByRole('table', { name: 'incident heatmap' })).toBeInTheDocument();
    });
    // One application whose incidents cannot be read is marked as such; the backlog and heatmap of the others stay.
    it('keeps the other applications when one cannot be read', async () => {
      const failing = f.riskTop.items.find(app => app.appId !== 'profiles')!;
      server.use(
        answer('/risk/top', f.riskTop),
        answer('/applications/profiles/incidents', f.incidentsProfiles),
        problem(`/applications/${failing.appId}/incidents`, 503, 'No data yet', 'a mart table this answer needs has not been built yet'),
        answer('/applications/:id/incidents', { ...f.incidentsProfiles, items: [] }),
      );
      await renderWithApi(<RunPage />);
      expect((await screen.findAllByText('Profiles')).length).toBe(2);
      expect(screen.getByText('incidents unavailable: a mart table this answer needs has not been built yet')).toBeInTheDocument();
      const heatmap = screen.getByRole('table', { name: 'incident heatmap' });
      expect(within(heatmap).getByText('incidents unavailable')).toBeInTheDocument();
      expect(screen.queryByText(/Could not load/)).not.toBeInTheDocument();
    });
    it('says when no application is known', async () => {
      server.use(answer('/risk/top', { ...f.riskTop, items: [] }));
      await renderWithApi(<RunPage />);
      expect(await screen.findByText('No applications in the period')).toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(problem('/risk/top', 500, 'Internal error', 'boom'));
      await renderWithApi(<RunPage />);
      expect((await screen.findAllByText(/Could not load/)).length).toBe(2);
    });
  });
});
