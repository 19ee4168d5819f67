import { screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { API, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { SloCard } from './SloCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

/** The summary answering each request in turn with the next of `answers` (the last one over again), and how often. */
function summaryAnswers(...answers: Response[]) {
  const asked = { requests: 0 };
  server.use(
    http.get(`${API}/applications/:id/summary`, () => {
      asked.requests += 1;
      return answers[Math.min(asked.requests, answers.length) - 1].clone();
    }),
  );
  return asked;
}

/** A 503 problem as the API answers it, with Retry-After. */
const unavailable = (title: string, detail: string, retryAfter: string) =>
  HttpResponse.json(
    { type: 'about:blank', title, status: 503, detail },
    { status: 503, headers: { 'Content-Type': 'application/problem+json', 'Retry-After': retryAfter } },
  );

// Before the first build the API answers 503 "No data yet" with Retry-After: its next look for a build (30 s by
// default), which may find none for hours. Asked again three times, every widget spun for a minute and a half first.
describe('before the first build', () => {
  registerServer();

  it('a widget says "No data yet" at once, without asking again', async () => {
    const notBuilt = unavailable('No data yet', 'the mart has not been built yet: run a build first', '30');
    const asked = summaryAnswers(notBuilt);
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await screen.findByText('No data yet')).toBeInTheDocument();
    expect(screen.getByText(/the mart has not been built yet: run a build first/)).toBeInTheDocument();
    expect(asked.requests).toBe(1);
  });

  // The mart copy still loading is another 503 with Retry-After: asked again after its second, the figures come.
  it('a widget whose data is still loading asks again and shows its figures', async () => {
    const asked = summaryAnswers(
      unavailable('Data unavailable', 'the mart copy is still loading; retry shortly', '1'),
      HttpResponse.json(f.summaryProfiles),
    );
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await screen.findByText('Availability target', {}, { timeout: 3000 })).toBeInTheDocument();
    expect(screen.queryByText('No data yet')).not.toBeInTheDocument();
    expect(asked.requests).toBe(2);
  });
});
