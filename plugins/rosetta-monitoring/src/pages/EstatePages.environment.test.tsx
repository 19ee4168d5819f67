import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { answer, askedOf, pick, Query, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DashboardPage } from './DashboardPage';
import { DoraPage } from './DoraPage';
import { RunPage } from './RunPage';
import { SloPage } from './SloPage';

// An estate mapped in three environments, production its production one, as the overview names them.
const ESTATE = {
  ...f.overview,
  environment: 'production',
  environments: ['pre-production', 'production', 'staging'],
  productionEnvironment: 'production',
};

/** The first column of the table named `name`, row by row. */
function firstColumn(name: string): string[] {
  const table = screen.getByRole('table', { name });
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map(row => within(row).getAllByRole('cell')[0].textContent ?? '');
}

const choose = (environment: string, shown = 'production') => pick('Environment', shown, environment);

describe('estate pages: the environment', () => {
  registerServer();
  afterEach(() => server.events.removeAllListeners());

  it('shows production by default, asking the reports for the API default', async () => {
    server.use(answer('/overview', ESTATE), answer('/kpis/dora', f.doraApp));
    const asked = askedOf('/kpis/dora');
    await renderWithApi(
      <>
        <DoraPage />
        <Query />
      </>,
    );
    expect(await screen.findByRole('button', { name: 'Environment production' })).toBeInTheDocument();
    expect(await screen.findByText(/, environment production$/)).toBeInTheDocument();
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.map(query => query.get('environment'))).toEqual(asked.map(() => null));
    expect(screen.getByTestId('query')).toHaveTextContent(/^$/);
  });

  it("lists the estate's environments and, staging chosen, shows staging's DORA figures and keeps it in the URL", async () => {
    // Staging's report holds partners alone: production's four applications must give way to it.
    const partners = f.doraApp.items.find(row => row.id === 'partners')!;
    const staging = { ...f.doraApp, environment: 'staging', items: [partners] };
    server.use(answer('/overview', ESTATE), answer('/kpis/dora', staging, { environment: 'staging' }), answer('/kpis/dora', f.doraApp));
    await renderWithApi(
      <>
        <DoraPage />
        <Query />
      </>,
    );
    expect(await screen.findByText('billing')).toBeInTheDocument();
    fireEvent.mouseDown(await screen.findByRole('button', { name: 'Environment production' }));
    const options = await screen.findAllByRole('option');
    expect(options.map(option => option.textContent)).toEqual(['pre-production', 'production', 'staging']);
    fireEvent.click(screen.getByRole('option', { name: 'staging' }));
    expect(await screen.findByText(/, environment staging$/)).toBeInTheDocument();
    expect(screen.queryByText('billing')).not.toBeInTheDocument();
    expect(firstColumn('DORA by application')).toEqual(['partners']);
    expect(screen.getByRole('button', { name: 'Environment staging' })).toBeInTheDocument();
    expect(screen.getByTestId('query')).toHaveTextContent(/^\?environment=staging$/);
  });

  it('opens a shared link on the environment it names, and choosing production takes it out of the URL', async () => {
    const heron = f.sloTeam.items.find(row => row.id === 'team-heron')!;
    const staging = { ...f.sloTeam, environment: 'staging', items: [heron] };
    server.use(answer('/overview', ESTATE), answer('/kpis/slo', staging, { environment: 'staging' }), answer('/kpis/slo', f.sloTeam));
    await renderWithApi(
      <>
        <SloPage />
        <Query />
      </>,
      undefined,
      '/rosetta-monitoring?environment=staging',
    );
    expect(await screen.findByText(/, environment staging;/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Environment staging' })).toBeInTheDocument();
    expect(firstColumn('SLOs by team')).toEqual(['team-heron']);
    await choose('production', 'staging');
    expect(await screen.findByText(/, environment production;/)).toBeInTheDocument();
    expect(screen.getByTestId('query')).toHaveTextContent(/^$/);
  });

  it('is chosen with the keyboard, and the run view then asks each of its reports for staging', async () => {
    const asked = [...['/kpis/incidents', '/kpis/changes'].map(askedOf)];
    server.use(
      answer('/overview', ESTATE),
      answer('/kpis/incidents', { ...f.incidentsReportApp, environment: 'staging' }, { groupBy: 'app', environment: 'staging' }),
      answer('/kpis/incidents', { ...f.incidentsReportTeam, environment: 'staging' }, { groupBy: 'team', environment: 'staging' }),
      answer('/kpis/changes', { ...f.changesReportTeam, environment: 'staging' }, { environment: 'staging' }),
      answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app' }),
      answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
      answer('/kpis/changes', f.changesReportTeam),
    );
    await renderWithApi(<RunPage />);
    expect(await screen.findByText(/, environment production;/)).toBeInTheDocument();
    const picker = screen.getByRole('button', { name: 'Environment production' });
    picker.focus();
    fireEvent.keyDown(picker, { key: 'ArrowDown' });
    // The list opens on the environment shown; the next one down is staging.
    await waitFor(() => expect(document.activeElement).toHaveTextContent(/^production$/));
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement).toHaveTextContent(/^staging$/);
    fireEvent.keyDown(document.activeElement!, { key: 'Enter' });
    expect(await screen.findByText(/, environment staging;/)).toBeInTheDocument();
    const [incidents, changes] = asked;
    // Two incidents reports (by application, by team) and one of changes, for production then for staging.
    expect(incidents.map(query => query.get('environment'))).toEqual([null, null, 'staging', 'staging']);
    expect(changes.map(query => query.get('environment'))).toEqual([null, 'staging']);
  });

  it('reads a link naming production in capitals as production, as the API does: its health and risks are shown', async () => {
    // The API reads `Production` as production and answers the overview of production, naming it in lower case.
    server.use(answer('/overview', ESTATE), answer('/kpis/dora', f.doraGroup));
    await renderWithApi(<DashboardPage />, undefined, '/rosetta-monitoring?environment=Production');
    expect(await screen.findByTestId('health-totals')).toBeInTheDocument();
    expect(screen.getAllByText(f.overview.topRisks[0].appName!).length).toBeGreaterThan(0);
    expect(screen.queryByText('Health is judged in production only')).not.toBeInTheDocument();
    // The picker lists production once, chosen, not a `Production` of its own beside it.
    fireEvent.mouseDown(await screen.findByRole('button', { name: 'Environment production' }));
    const options = await screen.findAllByRole('option');
    expect(options.map(option => option.textContent)).toEqual(['pre-production', 'production', 'staging']);
  });

  it("shows staging's trends and DORA on the dashboard, and says health and risk are judged in production only", async () => {
    const risk = f.doraGroup.items.find(row => row.id === 'risk-it')!;
    server.use(
      answer('/overview', { ...ESTATE, environment: 'staging' }, { environment: 'staging' }),
      answer('/overview', ESTATE),
      answer('/kpis/dora', { ...f.doraGroup, environment: 'staging', items: [risk] }, { environment: 'staging' }),
      answer('/kpis/dora', f.doraGroup),
    );
    const asked = askedOf('/overview');
    await renderWithApi(<DashboardPage />, undefined, '/rosetta-monitoring?environment=staging');
    expect(await screen.findByText('Health is judged in production only')).toBeInTheDocument();
    expect(screen.getByText('Risk is judged in production only')).toBeInTheDocument();
    // Production's verdicts, which the overview answers whatever the environment, are not passed as staging's.
    expect(screen.queryByTestId('health-totals')).not.toBeInTheDocument();
    expect(screen.queryByText(f.overview.topRisks[0].appName!)).not.toBeInTheDocument();
    expect(screen.getAllByText('Environment staging')).toHaveLength(2);
    expect(await screen.findByText('risk-it')).toBeInTheDocument();
    expect(screen.queryByText('finance-it')).not.toBeInTheDocument();
    expect(asked.map(query => query.get('environment'))).toContain('staging');
  });
});
