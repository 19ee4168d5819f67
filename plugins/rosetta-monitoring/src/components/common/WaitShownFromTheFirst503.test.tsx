import { screen } from '@testing-library/react';
import { HttpResponse } from 'msw';
import {
  billingApiComponent,
  registerServer,
  renderWithApi,
  summaryAnswers,
  unavailable,
  wait,
} from '../../__testUtils__/monitoringServer';
import * as f from '../../__testUtils__/fixtures';
import { HealthCard } from '../HealthCard';

// The API's words while the lake store fails (functions/api/problems.py).
const STORE_FAILED = 'the lake store could not be read or written; retry shortly';

// A short wait (30 s at most) was asked again three times out of sight first: a spinner for a minute and a half.
describe('a short wait the API asks for', () => {
  registerServer();
  beforeEach(() =>
    jest.useFakeTimers({
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
      now: new Date('2026-11-27T12:00:00Z'),
    }),
  );
  afterEach(() => jest.useRealTimers());

  it('is shown from the first 503 on, not after a spinner', async () => {
    const asked = summaryAnswers(unavailable(STORE_FAILED, '30'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(asked.requests).toBe(1);
    expect(screen.getByText('Waiting for the monitoring API')).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent(`${STORE_FAILED}; asked again in 29 s, at 12:00:30 UTC.`);
    expect(screen.queryByLabelText('Loading health')).not.toBeInTheDocument();
  });

  // Asked again at its Retry-After three times (at 30, 60 and 90 s), then after waits growing from it: 30, then 60 s.
  it('is still asked again at its Retry-After three times, the wait shown all along', async () => {
    const asked = summaryAnswers(unavailable(STORE_FAILED, '30'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    for (const requests of [2, 3, 4, 5]) {
      await wait(30);
      expect(asked.requests).toBe(requests);
      expect(screen.getByText('Waiting for the monitoring API')).toBeInTheDocument();
      expect(screen.queryByLabelText('Loading health')).not.toBeInTheDocument();
    }
    await wait(59);
    expect(asked.requests).toBe(5);
    await wait(1);
    expect(asked.requests).toBe(6);
  });

  it('gives way to the figures once the API answers', async () => {
    const asked = summaryAnswers(unavailable(STORE_FAILED, '5'), HttpResponse.json(f.summaryBillingApi));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(screen.getByText('Waiting for the monitoring API')).toBeInTheDocument();
    await wait(4);
    expect(asked.requests).toBe(2);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.queryByText('Waiting for the monitoring API')).not.toBeInTheDocument();
  });
});
