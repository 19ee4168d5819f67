import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { giveChartsASize } from '../__testUtils__/charts';
import type { MonitoredEntity } from '../api/types';
import { GoldenSignalsCard } from './GoldenSignalsCard';
import { DashboardPage } from '../pages/DashboardPage';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

// Each chart is a stop of the keyboard (its points are read with the arrow keys): a screen reader met five, then two,
// unnamed "application"s, with neither the figure the chart shows nor the period it covers.
describe('charts', () => {
  registerServer();
  let restore: () => void;
  beforeEach(() => {
    restore = giveChartsASize();
  });
  afterEach(() => restore());

  it('name each golden signal by its headline figure and the period', async () => {
    server.use(answer('/applications/:id/timeseries', f.timeseriesProfilesP95));
    await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_30d" />);
    const worst = Math.round(Math.max(...f.timeseriesProfilesP95.points.map(p => p.v ?? 0)));
    expect(
      await screen.findByRole('application', { name: `Latency p95, hourly over the last 30 days: ${worst} ms (worst hour)` }),
    ).toBeInTheDocument();
    expect(screen.getByRole('application', { name: /^Saturation \(CPU %\), hourly over the last 30 days: [\d.]+% \(worst hour\)$/ })).toBeInTheDocument();
  });

  it("name the dashboard's trends by their days and totals", async () => {
    server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DashboardPage />);
    const total = (key: 'deployments' | 'incidentsOpened') => f.overview.trend.reduce((n, d) => n + (d[key] ?? 0), 0);
    expect(
      await screen.findByRole('application', {
        name: `Deployments and incidents opened per day, 2026-10-29 to 2026-11-28: ${total('deployments')} deployments, ${total('incidentsOpened')} incidents opened`,
      }),
    ).toBeInTheDocument();
    expect(screen.getByRole('application', { name: /^Error rate per day, 2026-10-29 to 2026-11-28: highest 0\.\d{3}% on 2026-\d\d-\d\d$/ })).toBeInTheDocument();
  });
});
