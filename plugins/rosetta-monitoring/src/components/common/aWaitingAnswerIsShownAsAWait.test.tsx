import { screen } from '@testing-library/react';
import { HttpResponse } from 'msw';
import {
  billingApiComponent,
  registerServer,
  renderWithApi,
  summaryAnswers,
  wait,
} from '../../__testUtils__/monitoringServer';
import * as f from '../../__testUtils__/fixtures';
import { HealthCard } from '../HealthCard';

// The API's words (functions/api/deps.py, problems.py and mart.py).
const NOT_LOADED_WHOLE = 'the mart copy could not be loaded whole; retrying shortly';
const STORE_FAILED = 'the lake store could not be read or written; retry shortly';
const NOT_BUILT = 'the mart has not been built yet: run a build first';

/** A 503 problem as the API answers it, with Retry-After when `retryAfter` is given. */
const unavailable = (title: string, detail: string, retryAfter?: string) =>
  HttpResponse.json(
    { type: 'about:blank', title, status: 503, detail },
    {
      status: 503,
      headers: { 'Content-Type': 'application/problem+json', ...(retryAfter ? { 'Retry-After': retryAfter } : {}) },
    },
  );

/** What a widget that waits says, as a screen reader hears it from its live region. */
const waitSaid = () => screen.getByRole('status').textContent;

describe('an answer the API asks to be asked again for (503 with Retry-After)', () => {
  registerServer();
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('is shown as a wait with the API\'s own words, not as an error, when its wait is over half a minute', async () => {
    const asked = summaryAnswers(unavailable('Data unavailable', NOT_LOADED_WHOLE, '60'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(screen.getByText('Waiting for the monitoring API')).toBeInTheDocument();
    expect(waitSaid()).toContain(`${NOT_LOADED_WHOLE}; asked again in 59 s, at `);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryByText(/Could not load/)).not.toBeInTheDocument();
    expect(asked.requests).toBe(1);
  });

  it('is asked again after its Retry-After, and the figures come', async () => {
    const asked = summaryAnswers(
      unavailable('Data unavailable', NOT_LOADED_WHOLE, '60'),
      HttpResponse.json(f.summaryBillingApi),
    );
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(59);
    expect(asked.requests).toBe(1);
    await wait(1);
    expect(asked.requests).toBe(2);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.queryByText('Waiting for the monitoring API')).not.toBeInTheDocument();
  });

  it('waits 5 minutes at most the first time, then twice as long each time', async () => {
    const asked = summaryAnswers(unavailable('Data unavailable', NOT_LOADED_WHOLE, '3600'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(waitSaid()).toContain(`${NOT_LOADED_WHOLE}; asked again in 5 min, at `);
    // Asked at 0 and 5 minutes, then 10 minutes later, at 15.
    await wait(299);
    expect(asked.requests).toBe(2);
    expect(waitSaid()).toContain(`${NOT_LOADED_WHOLE}; asked again in 10 min, at `);
    await wait(599);
    expect(asked.requests).toBe(2);
    await wait(1);
    expect(asked.requests).toBe(3);
  });

  // A wait of 30 s at most (a cold start's copy loading) is asked again as said three times, shown as a wait all along.
  it('is shown as a wait while a short one is asked again three times', async () => {
    const asked = summaryAnswers(unavailable('Data unavailable', STORE_FAILED, '30'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(90);
    expect(asked.requests).toBe(4);
    expect(screen.getByText('Waiting for the monitoring API')).toBeInTheDocument();
    expect(waitSaid()).toContain(`${STORE_FAILED}; asked again in 30 s, at `);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('before the first build, says "No data yet" and when it asks again, then shows the figures built', async () => {
    const asked = summaryAnswers(unavailable('No data yet', NOT_BUILT, '30'), HttpResponse.json(f.summaryBillingApi));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(screen.getByText('No data yet')).toBeInTheDocument();
    expect(waitSaid()).toContain(`(${NOT_BUILT}): they come with its first aggregate build; asked again in 29 s, at `);
    expect(asked.requests).toBe(1);
    await wait(29);
    expect(asked.requests).toBe(2);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
  });

  it('without Retry-After, stays an error and is not waited on', async () => {
    const asked = summaryAnswers(unavailable('Data unavailable', NOT_LOADED_WHOLE));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(screen.getByText(/Could not load health/)).toHaveTextContent(NOT_LOADED_WHOLE);
    expect(screen.getByRole('alert')).toBeInTheDocument();
    expect(screen.queryByText('Waiting for the monitoring API')).not.toBeInTheDocument();
    await wait(290);
    expect(asked.requests).toBe(1);
  });
});
