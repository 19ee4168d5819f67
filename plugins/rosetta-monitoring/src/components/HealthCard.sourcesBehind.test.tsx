import { screen } from '@testing-library/react';
import { answer, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { HealthCard } from './HealthCard';
import { SloCard } from './SloCard';

// The figures run to 20 Nov 10:00 (the build's as-of, current). ServiceNow's incidents were read up to 18 Nov 00:00
// (58 h behind), its change requests up to 20 Nov 09:00 (1 h behind: within the 2 h staleness threshold), Dynatrace
// up to as-of. The health card, which weighs incidents, names the incidents alone; the SLO card, which rests on
// Dynatrace alone, names nothing.
const freshness = {
  ...f.summaryProfiles.freshness,
  asOf: '2026-11-20T10:00:00Z',
  lagSeconds: 600,
  sources: [
    { dataset: 'dynatrace/service_metrics_hourly', readUntil: '2026-11-20T10:00:00Z', behindSeconds: 0 },
    { dataset: 'servicenow/changes', readUntil: '2026-11-20T09:00:00Z', behindSeconds: 3600 },
    { dataset: 'servicenow/incidents', readUntil: '2026-11-18T00:00:00Z', behindSeconds: 58 * 3600 },
  ],
};

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

describe('a source read behind the figures', () => {
  registerServer();

  it('is named on a widget whose figures rest on it, and a source within the threshold is not', async () => {
    server.use(answer('/applications/:id/summary', { ...f.summaryProfiles, freshness }));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByText(/Read only/)).toHaveTextContent(
      "Read only ServiceNow's incidents up to 2026-11-18 00:00:00 UTC (58.0 h behind): later events are not in these figures",
    );
    expect(screen.queryByText(/change requests up to/)).not.toBeInTheDocument();
  });

  it('is not named where the figures do not rest on it', async () => {
    server.use(answer('/applications/:id/summary', { ...f.summaryProfiles, freshness }));
    await renderWithApi(<SloCard entity={profiles} />);
    await screen.findByText(/Availability/);
    expect(screen.queryByText(/Read only/)).not.toBeInTheDocument();
  });
});
