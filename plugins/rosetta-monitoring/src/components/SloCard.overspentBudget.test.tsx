import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { SloCard } from './SloCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

async function renderBudget(errorBudgetRemaining: number) {
  // Judged: the recorded summary's availability is 'insufficient data', whose budget has no bar.
  const availabilityStatus = errorBudgetRemaining < 0 ? 'breached' : 'met';
  const slo = { errorBudgetRemaining, availabilityStatus };
  server.use(answer('/applications/:id/summary', f.summaryProfilesWithLatency(slo)));
  await renderWithApi(<SloCard entity={profiles} />);
  return screen.findByRole('meter', { name: 'error budget remaining' });
}

// The bar stops at 0: its value alone told a screen reader that a budget spent nine times over was merely used up.
describe('SLO error budget bar', () => {
  registerServer();

  it('says an overspent budget as its figure, overspent', async () => {
    const bar = await renderBudget(-8.9);
    expect(bar).toHaveAttribute('aria-valuetext', '-890.0% (overspent)');
  });

  it('says a budget left as the figure shown', async () => {
    const bar = await renderBudget(0.8452);
    expect(bar).toHaveAttribute('aria-valuetext', '84.5%');
  });
});
