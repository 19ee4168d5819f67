import { screen } from '@testing-library/react';
import { HttpResponse } from 'msw';
import {
  billingApiComponent,
  EARLIER_RELEASE,
  registerServer,
  renderWithApi,
  summaryAnswers,
  unavailable,
  wait,
} from '../../__testUtils__/monitoringServer';

/** What the widget says it waits for, and when it asks again, in its live region. */
const waitSaid = () => screen.getByRole('status').textContent;
import * as f from '../../__testUtils__/fixtures';
import { HealthCard } from '../HealthCard';

// After an upgrade, until the first build of the new release, a route whose mart lacks a column answers 503 with
// Retry-After the API's check interval (an hour, say): asking again sooner gets the same answer.
describe('a widget whose data waits for the next build', () => {
  registerServer();
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('says so at once, with when it asks again, not as an error', async () => {
    const asked = summaryAnswers(unavailable(EARLIER_RELEASE, '3600'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(screen.getByText('Waiting for the next build')).toBeInTheDocument();
    expect(waitSaid()).toContain(`${EARLIER_RELEASE}; asked again in 5 min, at `);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryByText(/Could not load/)).not.toBeInTheDocument();
    expect(asked.requests).toBe(1);
  });

  it('asks again after 5 minutes at most, then twice as long, and shows the figures once built', async () => {
    const stillWaiting = unavailable(EARLIER_RELEASE, '3600');
    const asked = summaryAnswers(stillWaiting, stillWaiting, HttpResponse.json(f.summaryBillingApi));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(299);
    expect(asked.requests).toBe(1);
    await wait(1);
    expect(asked.requests).toBe(2);
    expect(waitSaid()).toContain(`${EARLIER_RELEASE}; asked again in 10 min, at `);
    await wait(599);
    expect(asked.requests).toBe(2);
    await wait(1);
    expect(asked.requests).toBe(3);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.queryByText('Waiting for the next build')).not.toBeInTheDocument();
  });

  it('waits no longer than 30 minutes between two asks', async () => {
    const asked = summaryAnswers(unavailable(EARLIER_RELEASE, '3600'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    // 5, 10, 20 minutes, then 30 minutes each time: asked at 0, 5, 15, 35, 65 and 95 minutes.
    await wait(95 * 60);
    expect(asked.requests).toBe(6);
    expect(waitSaid()).toContain(`${EARLIER_RELEASE}; asked again in 30 min, at `);
  });

  it('with a short Retry-After, is shown at once, not retried three times first', async () => {
    const asked = summaryAnswers(unavailable(EARLIER_RELEASE, '30'));
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(waitSaid()).toContain(`${EARLIER_RELEASE}; asked again in 29 s, at `);
    expect(screen.queryByLabelText('Loading health')).not.toBeInTheDocument();
    expect(asked.requests).toBe(1);
  });

  it('asks nothing more once the widget is gone', async () => {
    const asked = summaryAnswers(unavailable(EARLIER_RELEASE, '60'));
    const { unmount } = await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(1);
    expect(asked.requests).toBe(1);
    unmount();
    await wait(3600);
    expect(asked.requests).toBe(1);
  });

  // A cold instance waiting for a build's upload: the client still waits and asks again itself.
  it('a 503 still loading with a short Retry-After is asked again until it answers', async () => {
    const asked = summaryAnswers(
      unavailable('the mart copy is still loading; retry shortly', '5'),
      HttpResponse.json(f.summaryBillingApi),
    );
    await renderWithApi(<HealthCard />, billingApiComponent);
    await wait(5);
    expect(asked.requests).toBe(2);
    expect(screen.getByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.queryByText('Waiting for the next build')).not.toBeInTheDocument();
  });
});
