import { screen } from '@testing-library/react';
import { answer, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { HealthCard } from './HealthCard';

// ServiceNow down since 17 Nov 00:00: the API knows the entity's CI, but not its backlog at the build's as-of, so it
// answers the open counts null with how far ServiceNow was read. The card said "no ServiceNow CI is mapped to it",
// sending the reader to fix a mapping that is right.
describe('HealthCard while ServiceNow cannot be read', () => {
  registerServer();

  it('says how far the incidents were read, not that no CI is mapped', async () => {
    const down = {
      ...f.summaryProfiles,
      risk: null,
      incidents: { state: 'ok' as const, open: null, openP1P2: null, slaBreached: null, readUntil: '2026-11-17T00:00:00Z' },
    };
    server.use(answer('/applications/:id/summary', down));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-open-incidents')).toHaveTextContent(/^unknown$/);
    expect(screen.getByTestId('health-open-incidents').parentElement).toHaveTextContent(
      "Open incidents: unknown (ServiceNow's incidents read only up to 2026-11-17 00:00:00 UTC)",
    );
    expect(screen.queryByText(/no ServiceNow CI/)).not.toBeInTheDocument();
  });
});
