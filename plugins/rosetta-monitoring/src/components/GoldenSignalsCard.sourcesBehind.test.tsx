import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { GoldenSignalsCard } from './GoldenSignalsCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

/** The recorded series (as of 28 Nov 08:00) with how far each source was read. */
const readUntil = (sources: { dataset: string; readUntil: string; behindSeconds: number }[]) => ({
  ...f.timeseriesProfilesP95,
  freshness: { ...f.timeseriesProfilesP95.freshness, sources },
});

// The card shows Dynatrace's latency, errors, traffic and CPU, no log count: Elasticsearch read up to 25 Nov 00:00
// (80 h behind) leaves its figures whole, and it said "later events are not in these figures" over current ones.
describe('golden signals with a source read behind', () => {
  registerServer();

  it("says nothing of Elasticsearch's log counts, which it does not show", async () => {
    const series = readUntil([
      { dataset: 'dynatrace/service_metrics_hourly', readUntil: '2026-11-28T08:00:00Z', behindSeconds: 0 },
      { dataset: 'elasticsearch/log_counts_hourly', readUntil: '2026-11-25T00:00:00Z', behindSeconds: 80 * 3600 },
    ]);
    server.use(answer('/applications/:id/timeseries', series));
    await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
    expect(await screen.findByTestId('signal-latency_p95')).toHaveTextContent(/ms \(worst hour\)$/);
    expect(screen.queryByText(/Read only/)).not.toBeInTheDocument();
    expect(screen.queryByText(/log counts/)).not.toBeInTheDocument();
  });

  it("names Dynatrace's service metrics read behind, which its figures rest on", async () => {
    // Read up to 27 Nov 22:00: 10 hours before the as-of, over the 2-hour staleness threshold.
    const series = readUntil([
      { dataset: 'dynatrace/service_metrics_hourly', readUntil: '2026-11-27T22:00:00Z', behindSeconds: 10 * 3600 },
    ]);
    server.use(answer('/applications/:id/timeseries', series));
    await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
    expect(await screen.findByText(/Read only/)).toHaveTextContent(
      "Read only Dynatrace's service metrics up to 2026-11-27 22:00:00 UTC (10.0 h behind): " +
        'later events are not in these figures',
    );
  });
});
