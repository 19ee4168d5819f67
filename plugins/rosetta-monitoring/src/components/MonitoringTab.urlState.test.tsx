import { screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { API, pick, profilesSystem, registerServer, renderAt, server } from '../__testUtils__/monitoringServer';
import { MonitoringTab } from './MonitoringTab';

/**
 * What an SRE checks on a link to an application's Monitoring tab sent during an incident review ("look at the last
 * 30 days"): it opens on the period it names, every card asks for it, a choice changes the link, the default period
 * leaves the link plain, and a period the tab does not offer reads as the default rather than being asked of the API.
 */

const query = () => screen.getByTestId('query').textContent;

/** The periods the cards ask for from now on, request by request; every call answers 500 (the figures do not matter). */
function periodsAsked(): string[] {
  const asked: string[] = [];
  server.use(
    http.get(`${API}/*`, () => HttpResponse.json({ title: 'Internal error', status: 500, detail: 'boom' }, { status: 500 })),
  );
  server.events.on('request:start', ({ request }) => {
    const period = new URL(request.url).searchParams.get('period');
    if (period) asked.push(period);
  });
  return asked;
}

const renderTabAt = (url: string) => renderAt(<MonitoringTab />, url, profilesSystem);

describe('the Monitoring tab: its period kept in the URL', () => {
  registerServer();
  afterEach(() => server.events.removeAllListeners());

  // A period it does not offer (a typo, one of an older release) reads as the default and is never asked of the API.
  it.each([
    ['the period it names', '/?period=last_30d', 'Last 30 days', 'last_30d'],
    ['the default for a period it does not offer', '/?period=last_year', 'Last 7 days', 'last_7d'],
  ])('opens a link on %s, and every card asks for it from its first request', async (_, url, shown, period) => {
    const asked = periodsAsked();
    await renderTabAt(url);
    expect(await screen.findByRole('button', { name: `Period ${shown}` })).toBeInTheDocument();
    // The signals, deployments, incidents, changes, DORA and logs cards each ask with the period.
    await waitFor(() => expect(asked.length).toBeGreaterThanOrEqual(6));
    expect(new Set(asked)).toEqual(new Set([period]));
  });

  it('puts another period in the URL and asks for it; the default period takes it out again', async () => {
    const asked = periodsAsked();
    await renderTabAt('/');
    expect(await screen.findByRole('button', { name: 'Period Last 7 days' })).toBeInTheDocument();
    expect(query()).toBe('');
    await waitFor(() => expect(asked).toContain('last_7d'));

    await pick('Period', 'Last 7 days', 'Last 90 days');
    await waitFor(() => expect(query()).toBe('?period=last_90d'));
    await waitFor(() => expect(asked).toContain('last_90d'));

    await pick('Period', 'Last 90 days', 'Last 7 days');
    await waitFor(() => expect(query()).toBe(''));
  });

  it('keeps the rest of the URL when the period changes', async () => {
    periodsAsked();
    await renderTabAt('/?tab=monitoring');
    await pick('Period', 'Last 7 days', 'Last 24 hours');
    await waitFor(() => expect(new URLSearchParams(query() ?? '').get('period')).toBe('last_24h'));
    expect(new URLSearchParams(query() ?? '').get('tab')).toBe('monitoring');
  });
});
