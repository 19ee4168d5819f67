import { screen } from '@testing-library/react';
import { answer, figure, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity, SloStatus } from '../api/types';
import { SloCard } from './SloCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

/** The summary, its SLO carrying the latency figures of the application's row (fixtures' sloAppProfiles). */
function answerSlo(figures: Partial<SloStatus> = {}) {
  server.use(answer('/applications/:id/summary', f.summaryProfilesWithLatency(figures)));
}

describe('SloCard latency', () => {
  registerServer();

  it('states each latency objective in words, with its threshold and target', async () => {
    answerSlo();
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await figure('Latency p95 objective')).toHaveTextContent(/^p95 within 500 ms in 95\.00% of the hours measured$/);
    expect(await figure('Latency p99 objective')).toHaveTextContent(/^p99 within 1500 ms in 95\.00% of the hours measured$/);
  });

  // p95: 389 / 400 = 97.25 %, cut to one decimal: 97.2 %, met. p99: 370 / 396 = 93.434… %, cut: 93.4 %, breached.
  // Coverage: 400 / 720 = 55.55… % and 396 / 720 = 55 %, both cut to 55 %.
  it('shows each latency SLI against its target, with its status and the hours measured', async () => {
    answerSlo();
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await figure('Latency p95 achieved')).toHaveTextContent(/^97\.2% · met$/);
    expect(await figure('Hours with a p95 measured')).toHaveTextContent(/^55%$/);
    expect(await figure('Latency p99 achieved')).toHaveTextContent(/^93\.4% · breached$/);
    expect(await figure('Hours with a p99 measured')).toHaveTextContent(/^55%$/);
    // The availability beside it is the summary's, as before: a third of the hours measured, insufficient data.
    expect(screen.getByText('insufficient data')).toBeInTheDocument();
  });

  // A 97.5 % target: 97.496 % of good hours missed it, and reads 97.4 %, not the 97.5 % rounding would make of it.
  it('never rounds a breached latency SLI up to its target', async () => {
    answerSlo({ latencyTarget: 0.975, latencyP95Sli: 0.97496, latencyP95Status: 'breached' });
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await figure('Latency p95 objective')).toHaveTextContent(/^p95 within 500 ms in 97\.50% of the hours measured$/);
    expect(await figure('Latency p95 achieved')).toHaveTextContent(/^97\.4% · breached$/);
  });

  // 24 of 720 hours with a p95 (3.33 %) is under the build's minimum: the state says so in place of the share; no hour
  // had a p99 at all: no SLI, which is no data, never 0 % nor 100 %.
  it('says when a latency SLO has insufficient data or no data', async () => {
    answerSlo({
      latencyP95Sli: 1,
      latencyP95Status: 'insufficient data',
      latencyCoverage: 24 / 720,
      latencyP99Sli: null,
      latencyP99Status: 'no data',
      latencyP99Coverage: 0,
    });
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await figure('Latency p95 achieved')).toHaveTextContent(/^insufficient data$/);
    expect(await figure('Hours with a p95 measured')).toHaveTextContent(/^3%$/);
    expect(await figure('Latency p99 achieved')).toHaveTextContent(/^no data$/);
    expect(await figure('Hours with a p99 measured')).toHaveTextContent(/^0%$/);
  });
});
