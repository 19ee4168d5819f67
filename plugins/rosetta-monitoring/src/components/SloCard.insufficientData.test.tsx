import { screen, within } from '@testing-library/react';
import { answer, figure, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity, SloRow, Summary } from '../api/types';
import { SloCard } from './SloCard';
import { SloTable } from './SloTable';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

/** The text of each row's cell under `column`, the rows in order. */
function column(title: string): string[] {
  const table = screen.getByRole('columnheader', { name: title }).closest('table')!;
  const headers = Array.from(table.querySelectorAll('th')).map(th => th.textContent);
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map(row => within(row).getAllByRole('cell')[headers.indexOf(title)].textContent ?? '');
}

describe('SLOs with too few hours measured', () => {
  registerServer();

  // The recorded profiles summary measured a third of the period's hours, under the build's 50 %: its availability,
  // 99.922 %, is 'insufficient data'. Its p95 was measured in 24 of 720 hours (3 %), all good: a share of 100 %, also
  // 'insufficient data'. The card read "100.0% (insufficient data)", a figure of 24 hours shown as the SLI. Neither
  // share is shown now: the state alone, with the hours measured that say why.
  it('shows the state, not the share of too few hours, for the availability and the latency SLOs', async () => {
    const slo = { latencyP95Sli: 1, latencyP95Status: 'insufficient data', latencyCoverage: 24 / 720 };
    server.use(answer('/applications/:id/summary', f.summaryProfilesWithLatency(slo)));
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await figure('Latency p95 achieved')).toHaveTextContent(/^insufficient data$/);
    expect(await figure('Hours with a p95 measured')).toHaveTextContent(/^3%$/);
    const achieved = (await screen.findByText(/^Achieved \(last 30 days/)).nextElementSibling;
    expect(achieved).toHaveTextContent(/^insufficient data$/);
    expect(await figure('Hours measured')).toHaveTextContent(/^33%$/);
    expect(screen.queryByText(/100\.0%/)).not.toBeInTheDocument();
    expect(screen.queryByText(/99\.922%/)).not.toBeInTheDocument();
  });

  // The recorded summary as the API gave it: availability and both latency SLOs 'insufficient data' (a third of the
  // hours measured), their budgets 0.8452…, 1 and 1, given whatever the coverage. The card showed them bare, 84.5 % on
  // a green bar and 100.0 % twice: a healthy budget made of the hours too few to judge the SLO. Each says its state.
  it('shows the budget of an SLO not judged with its state, and no bar', async () => {
    server.use(answer('/applications/:id/summary', f.summaryProfiles as Summary));
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await figure('Error budget remaining')).toHaveTextContent(/^84\.5% · insufficient data$/);
    expect(await figure('Latency p95 error budget remaining')).toHaveTextContent(/^100\.0% · insufficient data$/);
    expect(await figure('Latency p99 error budget remaining')).toHaveTextContent(/^100\.0% · insufficient data$/);
    expect(screen.queryByRole('meter')).not.toBeInTheDocument();
  });

  // No hour with a p99: no share at all, which is 'no data', not a dash beside it.
  it('shows a latency SLO without a measurement as no data', async () => {
    const slo = { latencyP99Sli: null, latencyP99Status: 'no data', latencyP99Coverage: 0 };
    server.use(answer('/applications/:id/summary', f.summaryProfilesWithLatency(slo)));
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await figure('Latency p99 achieved')).toHaveTextContent(/^no data$/);
  });

  // The SLO view's rows: profiles measured 24 of 720 hours (availability 100 %, p95 100 %), billing none. A judged row
  // keeps its share beside its state: checkout's 99.812 % met and 97.2 % (389 / 400, cut) met.
  it('shows the state in place of the share in the SLO table, for both SLO kinds', async () => {
    const [row] = f.sloAppProfiles.items;
    const short = { ...row, availability: 1, availabilityStatus: 'insufficient data', coverage: 24 / 720 };
    const rows: SloRow[] = [
      { ...short, id: 'profiles', latencyP95Sli: 1, latencyP95Status: 'insufficient data' },
      { ...row, id: 'billing', availability: null, availabilityStatus: 'no data', errorBudgetRemaining: null, latencyP95Sli: null, latencyP95Status: 'no data' },
      { ...row, id: 'checkout', availability: 0.99812, availabilityTarget: 0.995, availabilityStatus: 'met' },
    ];
    await renderWithApi(<SloTable rows={rows} groupBy="app" />);
    expect(column('Availability')).toEqual(['insufficient data', 'no data', '99.812% · met']);
    expect(column('Latency p95')).toEqual(['insufficient data', 'no data', '97.2% · met']);
    // The budget is given whatever the coverage: beside its state when the SLO is not judged, alone when it is.
    // The fixture's row has 0.65 left; billing, measured in no hour, none.
    expect(column('Error budget left')).toEqual(['65.0% · insufficient data', '–', '65.0%']);
  });
});
