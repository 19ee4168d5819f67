import { screen } from '@testing-library/react';
import { answer, billingApiComponent, problem, profilesSystem, registerServer, renderWithApi, server } from '../testing/monitoringServer';
import * as f from '../testing/fixtures';
import { HealthCard } from './HealthCard';

describe('HealthCard', () => {
  registerServer();

  it("shows the application's colour and the reasons behind it", async () => {
    server.use(answer('/applications/:id/summary', f.summaryProfiles));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
    for (const reason of f.summaryProfiles.risk!.reasons) {
      expect(screen.getByText(reason)).toBeInTheDocument();
    }
    expect(screen.getByTestId('health-open-incidents')).toHaveTextContent(String(f.summaryProfiles.incidents.open));
  });

  it('judges a component on its signals when the API gives no verdict', async () => {
    server.use(answer('/components/:id/summary', f.summaryBillingApi));
    await renderWithApi(<HealthCard />, billingApiComponent);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.getByText('within thresholds, no open incident')).toBeInTheDocument();
  });

  it('turns red on an error rate above the critical threshold', async () => {
    const failing = { ...f.summaryBillingApi, goldenSignals: { ...f.summaryBillingApi.goldenSignals, errorRate: 0.2 } };
    server.use(answer('/components/:id/summary', failing));
    await renderWithApi(<HealthCard />, billingApiComponent);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('red');
    expect(screen.getByText(/error rate 20.00% ≥ 5.00%/)).toBeInTheDocument();
  });

  it('uses the annotation to find the entity in the API', async () => {
    server.use(answer('/applications/profiles-legacy/summary', f.summaryProfiles));
    const annotated = {
      ...profilesSystem,
      metadata: { ...profilesSystem.metadata, annotations: { 'rosetta.io/monitoring-id': 'profiles-legacy' } },
    };
    await renderWithApi(<HealthCard />, annotated);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
  });

  it('says the entity has no mapping', async () => {
    server.use(problem('/applications/:id/summary', 404, 'Unknown application', "no application 'profiles' in the mapping"));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByText('No mapping for this entity')).toBeInTheDocument();
  });

  it('shows an error panel when the API fails', async () => {
    server.use(problem('/applications/:id/summary', 500, 'Internal error', 'boom'));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByText(/Could not load health/)).toBeInTheDocument();
  });
});
