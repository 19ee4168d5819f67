import { screen } from '@testing-library/react';
import {
  billingApiComponent,
  registerServer,
  renderWithApi,
  summaryAnswers,
  unavailable,
  wait,
} from '../../__testUtils__/monitoringServer';
import { HealthCard } from '../HealthCard';

// The API's words while its mart copy cannot be loaded (functions/api/deps.py).
const NOT_LOADED_WHOLE = 'the mart copy could not be loaded whole; retrying shortly';

/** The widget's live region: what it waits for, and when it asks again. */
const waitShown = () => screen.getByRole('status');

/** What a screen reader hears of the live region: its text but for what is hidden from it. */
function waitHeard(): string {
  const heard = waitShown().cloneNode(true) as HTMLElement;
  heard.querySelectorAll('[aria-hidden="true"]').forEach(hidden => hidden.remove());
  return heard.textContent ?? '';
}

// A wait shown as first said ("asked again in 1 min", for as long as it lasts) says nothing of how long is left.
describe('a widget waiting for the monitoring API', () => {
  registerServer();
  beforeEach(() =>
    jest.useFakeTimers({
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
      now: new Date('2026-11-27T12:00:00Z'),
    }),
  );
  afterEach(() => jest.useRealTimers());

  it('counts down to when it asks again, and says the time', async () => {
    summaryAnswers(unavailable(NOT_LOADED_WHOLE, '60'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(waitShown()).toHaveTextContent(`${NOT_LOADED_WHOLE}; asked again in 59 s, at 12:01:00 UTC.`);
    await wait(20);
    expect(waitShown()).toHaveTextContent(`${NOT_LOADED_WHOLE}; asked again in 39 s, at 12:01:00 UTC.`);
  });

  // A wait of minutes counts down by the minute, rounded up, then by the second in its last minute.
  it('counts a longer wait down by the minute', async () => {
    summaryAnswers(unavailable(NOT_LOADED_WHOLE, '300'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(waitShown()).toHaveTextContent(`${NOT_LOADED_WHOLE}; asked again in 5 min, at 12:05:00 UTC.`);
    await wait(60);
    expect(waitShown()).toHaveTextContent(`${NOT_LOADED_WHOLE}; asked again in 4 min, at 12:05:00 UTC.`);
    await wait(180);
    expect(waitShown()).toHaveTextContent(`${NOT_LOADED_WHOLE}; asked again in 59 s, at 12:05:00 UTC.`);
  });

  it('is heard once with the time it asks again at, not every second', async () => {
    summaryAnswers(unavailable(NOT_LOADED_WHOLE, '60'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(waitHeard()).toContain(`${NOT_LOADED_WHOLE}; asked again at 12:01:00 UTC.`);
    await wait(20);
    expect(waitHeard()).toContain(`${NOT_LOADED_WHOLE}; asked again at 12:01:00 UTC.`);
    expect(waitHeard()).not.toMatch(/\d+ s\b/);
  });

  // Asked again at 12:01:00 and answered the same, the wait is renewed: twice as long, to 12:03:00.
  it('counts down the renewed wait once asked again', async () => {
    const asked = summaryAnswers(unavailable(NOT_LOADED_WHOLE, '60'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(60);
    expect(asked.requests).toBe(2);
    expect(waitShown()).toHaveTextContent(`${NOT_LOADED_WHOLE}; asked again in 2 min, at 12:03:00 UTC.`);
    await wait(61);
    expect(waitShown()).toHaveTextContent(`${NOT_LOADED_WHOLE}; asked again in 59 s, at 12:03:00 UTC.`);
  });
});
