import { screen } from '@testing-library/react';
import { answer, problem, registerServer, renderWithApi, server } from '../testing/monitoringServer';
import * as f from '../testing/fixtures';
import type { MonitoredEntity, SloReport, SloRow } from '../api/types';
import { SloCard } from './SloCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };

const [profilesRow] = f.sloAppProfiles.items;
/** The application's row of the SLO report (fixtures' sloAppProfiles), some of its figures changed. */
const sloApp = (row: Partial<SloRow>): SloReport => ({ ...f.sloAppProfiles, items: [{ ...profilesRow, ...row }] });
/** The summary's p95 is the same row's. */
const summary = (row: Partial<SloRow> = {}) => {
  const { latencyP95Sli, latencyP95Status } = { ...profilesRow, ...row };
  return { ...f.summaryProfiles, slo: { ...f.summaryProfiles.slo!, latencyP95Sli, latencyP95Status } };
};
/** The card's figure beside `label`. */
const figure = async (label: string) => (await screen.findByText(label)).nextElementSibling;

function answerSlo(row: Partial<SloRow> = {}) {
  server.use(
    answer('/applications/:id/summary', summary(row)),
    // The application's own row, over the summary's period: any other query is left unanswered.
    answer('/kpis/slo', sloApp(row), { groupBy: 'app', period: 'last_30d', app: 'profiles' }),
  );
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
    // The availability beside it is the summary's, as before: 99.922 %, against 99.50 %.
    expect(screen.getByText('99.922% (insufficient data)')).toBeInTheDocument();
  });

  // A 97.5 % target: 97.496 % of good hours missed it, and reads 97.4 %, not the 97.5 % rounding would make of it.
  it('never rounds a breached latency SLI up to its target', async () => {
    answerSlo({ latencyTarget: 0.975, latencyP95Sli: 0.97496, latencyP95Status: 'breached' });
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await figure('Latency p95 objective')).toHaveTextContent(/^p95 within 500 ms in 97\.50% of the hours measured$/);
    expect(await figure('Latency p95 achieved')).toHaveTextContent(/^97\.4% · breached$/);
  });

  // 24 of 720 hours with a p95 (3.33 %) is under the build's minimum: the state says so beside the share; no hour had
  // a p99 at all: no SLI, which is no data, never 0 % nor 100 %.
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
    expect(await figure('Latency p95 achieved')).toHaveTextContent(/^100\.0% \(insufficient data\)$/);
    expect(await figure('Hours with a p95 measured')).toHaveTextContent(/^3%$/);
    expect(await figure('Latency p99 achieved')).toHaveTextContent(/^– \(no data\)$/);
    expect(await figure('Hours with a p99 measured')).toHaveTextContent(/^0%$/);
  });

  it('keeps the availability shown when the latency figures cannot be loaded', async () => {
    server.use(answer('/applications/:id/summary', f.summaryProfiles), problem('/kpis/slo', 500, 'Internal error', 'boom'));
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await screen.findByText(/Could not load latency SLO/)).toBeInTheDocument();
    expect(screen.getByText('99.922% (insufficient data)')).toBeInTheDocument();
  });

  it("says when the SLO report has no row for the application's latency", async () => {
    server.use(answer('/applications/:id/summary', f.summaryProfiles), answer('/kpis/slo', { ...sloApp({}), items: [] }));
    await renderWithApi(<SloCard entity={profiles} />);
    expect(await screen.findByText('No latency SLO in the period')).toBeInTheDocument();
  });
});
