import { useState } from 'react';
import { fireEvent, screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import {
  answer,
  API,
  billingApiComponent,
  EARLIER_RELEASE,
  registerServer,
  renderWithApi,
  server,
  unavailable,
  wait,
} from '../../__testUtils__/monitoringServer';
import * as f from '../../__testUtils__/fixtures';
import { DashboardPage } from '../../pages/DashboardPage';
import { useMonitoredEntity } from './EntityContext';
import { HealthCard } from '../HealthCard';
import { SloCard } from '../SloCard';

/** `path` answering each request in turn with the next of `answers` (the last one over again), and how often. */
function answers(path: string, ...given: Response[]) {
  const asked = { requests: 0 };
  server.use(
    http.get(`${API}${path}`, () => {
      asked.requests += 1;
      return given[Math.min(asked.requests, given.length) - 1].clone();
    }),
  );
  return asked;
}

/** The entity's health card, and its SLO card once the reader opens it: both read the entity's summary. */
function HealthThenSlo() {
  const entity = useMonitoredEntity();
  const [slo, setSlo] = useState(false);
  return (
    <>
      <HealthCard />
      {slo ? <SloCard entity={entity} /> : <button onClick={() => setSlo(true)}>Show the SLO card</button>}
    </>
  );
}

describe('widgets reading the same answer of the API', () => {
  registerServer();
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('share its wait: one opened later says it at once, and one request a wait serves them both', async () => {
    const stillWaiting = unavailable(EARLIER_RELEASE, '3600');
    const built = HttpResponse.json(f.summaryBillingApi);
    const asked = answers('/components/:id/summary', stillWaiting, stillWaiting, built);
    await renderWithApi(<HealthThenSlo />, billingApiComponent);
    await wait(60);
    expect(asked.requests).toBe(1);
    fireEvent.click(screen.getByRole('button', { name: 'Show the SLO card' }));
    await wait(1);
    expect(screen.getAllByText('Waiting for the next build')).toHaveLength(2);
    expect(asked.requests).toBe(1);
    // Asked again 5 minutes after the first answer, once for both; then 10 minutes later, once.
    await wait(239);
    expect(asked.requests).toBe(2);
    const waits = screen.getAllByRole('status').map(status => status.textContent);
    expect(waits.filter(said => said?.includes(`${EARLIER_RELEASE}; asked again in 10 min, at `))).toHaveLength(2);
    await wait(600);
    expect(asked.requests).toBe(3);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.getByText('SLOs are set per application')).toBeInTheDocument();
    expect(screen.queryByText('Waiting for the next build')).not.toBeInTheDocument();
  });

  // The environment picker names the environments from the overview the dashboard's health, trends and risks show.
  it("on the dashboard, ask the overview once for the picker and its three widgets, wait after wait", async () => {
    server.use(answer('/kpis/dora', f.doraGroup));
    const stillWaiting = unavailable(EARLIER_RELEASE, '3600');
    const asked = answers('/overview', stillWaiting, stillWaiting, HttpResponse.json(f.overview));
    await renderWithApi(<DashboardPage />);
    await wait(1);
    expect(screen.getAllByText('Waiting for the next build')).toHaveLength(3);
    expect(asked.requests).toBe(1);
    await wait(299);
    expect(asked.requests).toBe(2);
    await wait(600);
    expect(asked.requests).toBe(3);
    expect(screen.getByTestId('estate-health')).toHaveTextContent('Estate:');
    expect(screen.queryByText('Waiting for the next build')).not.toBeInTheDocument();
  });
});
