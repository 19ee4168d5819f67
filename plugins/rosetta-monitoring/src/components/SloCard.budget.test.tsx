import { answer, figure, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity, SloStatus } from '../api/types';
import { SloCard } from './SloCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

/** Renders the card over the profiles summary, its SLO carrying the latency SLOs with `figures` changed. */
async function renderSlo(figures: Partial<SloStatus> = {}) {
  server.use(answer('/applications/:id/summary', f.summaryProfilesWithLatency(figures)));
  await renderWithApi(<SloCard entity={profiles} />);
}

describe('SloCard latency error budgets', () => {
  registerServer();

  // The fixture's p95 allows 0.05 x 400 = 20 bad hours and spent 11: 9 / 20 = 45 % left. Its p99 allows 0.05 x 396 =
  // 19.8 and spent 26: (19.8 - 26) / 19.8 = -31.31… %, cut as the availability's budget is: -31.4 %, overspent.
  it('shows the error budget remaining beside each latency SLO', async () => {
    await renderSlo();
    expect(await figure('Latency p95 error budget remaining')).toHaveTextContent(/^45\.0%$/);
    expect(await figure('Latency p99 error budget remaining')).toHaveTextContent(/^-31\.4%$/);
    // The availability's budget beside them is the summary's, as before: 0.8452… left reads 84.5 %, of an
    // availability measured in too few hours to be judged.
    expect(await figure('Error budget remaining')).toHaveTextContent(/^84\.5% · insufficient data$/);
  });

  // 0.04 % of the p95 budget left is a sliver, not none; 99.96 % left is not all of it. No p99 measured: no budget,
  // which is no data (–), never 0 % nor 100 %.
  it("formats a latency budget by the card's rules, and shows none without a measurement", async () => {
    await renderSlo({
      latencyP95BudgetRemaining: 0.0004,
      latencyP99BudgetRemaining: null,
      latencyP99Sli: null,
      latencyP99Status: 'no data',
      latencyP99Coverage: 0,
    });
    expect(await figure('Latency p95 error budget remaining')).toHaveTextContent(/^< 0\.1%$/);
    expect(await figure('Latency p99 error budget remaining')).toHaveTextContent(/^–$/);
    expect(await figure('Latency p99 achieved')).toHaveTextContent(/^no data$/);
  });

  it('reads the latency SLOs from the summary alone, in one request', async () => {
    const asked: string[] = [];
    const record = ({ request }: { request: Request }) => asked.push(new URL(request.url).pathname);
    server.events.on('request:start', record);
    await renderSlo({ latencyP95BudgetRemaining: 0.9996 });
    expect(await figure('Latency p95 error budget remaining')).toHaveTextContent(/^99\.9%$/);
    server.events.removeListener('request:start', record);
    // The summary alone: no SLO report asked for the latency figures.
    expect(asked).toEqual(['/api/proxy/rosetta/monitoring/applications/system%3Adefault%2Fprofiles/summary']);
  });
});
