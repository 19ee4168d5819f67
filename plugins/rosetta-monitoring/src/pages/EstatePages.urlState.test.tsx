import { fireEvent, screen, waitFor } from '@testing-library/react';
import { answer, askedOf, pick, registerServer, renderAt, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DoraPage } from './DoraPage';
import { MonitoringPage } from './MonitoringPage';
import { SloPage } from './SloPage';

/**
 * What a platform engineer checks on a link to an estate view sent to a colleague ("the DORA view, last 90 days, by
 * team, staging"): it opens on the view, period and grouping it names, the reports are asked for them and the pickers
 * show them; a choice changes the link, a link to the default view stays plain, and a value the page does not offer
 * (a typo, a period of an older release) reads as the default rather than breaking the page.
 */

/** The API's names for the groupings and periods the pickers show. */
const GROUP_BYS: Record<string, string> = { Application: 'app', Team: 'team' };
const PERIODS: Record<string, string> = { 'Last 30 days': 'last_30d', 'Last 90 days': 'last_90d' };

const query = () => screen.getByTestId('query').textContent;

/** What the reports were asked for, request by request: only `names`, absent ones as null. */
const sent = (asked: URLSearchParams[], ...names: string[]) => asked.map(q => names.map(name => q.get(name)));

describe('estate pages: the choices kept in the URL', () => {
  registerServer();
  afterEach(() => server.events.removeAllListeners());

  it('opens a link on the period and grouping it names, asks the report for them and shows them picked', async () => {
    server.use(answer('/kpis/dora', f.doraApp));
    const asked = askedOf('/kpis/dora');
    await renderAt(<DoraPage />, '/rosetta-monitoring?period=last_90d&groupBy=team');
    expect(await screen.findByRole('button', { name: 'Group by Team' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Period Last 90 days' })).toBeInTheDocument();
    await waitFor(() => expect(asked.length).toBeGreaterThan(0));
    // Never the defaults first: the link's choices are the page's from its first request.
    expect(sent(asked, 'groupBy', 'period')).toEqual(asked.map(() => ['team', 'last_90d']));
  });

  it('puts another grouping in the URL and asks for it; the default one takes it out again', async () => {
    server.use(answer('/kpis/slo', f.sloTeam));
    const asked = askedOf('/kpis/slo');
    await renderAt(<SloPage />, '/rosetta-monitoring');
    // The SLO view is by team unless told otherwise, and says so without a parameter.
    await pick('Group by', 'Team', 'Domain');
    expect(query()).toBe('?groupBy=domain');
    await waitFor(() => expect(sent(asked, 'groupBy').pop()).toEqual(['domain']));
    await pick('Group by', 'Domain', 'Team');
    expect(query()).toBe('');
    await waitFor(() => expect(sent(asked, 'groupBy').pop()).toEqual(['team']));
  });

  it('puts a period or a range in the URL in place of the other, beside the environment', async () => {
    server.use(answer('/kpis/dora', f.doraApp));
    const asked = askedOf('/kpis/dora');
    await renderAt(<DoraPage />, '/rosetta-monitoring?environment=staging');
    await pick('Period', 'Last 30 days', 'Last 7 days');
    expect(query()).toBe('?environment=staging&period=last_7d');
    await waitFor(() => expect(sent(asked, 'period', 'environment').pop()).toEqual(['last_7d', 'staging']));
    fireEvent.change(screen.getByLabelText('First day'), { target: { value: '2025-06-01' } });
    fireEvent.change(screen.getByLabelText('Last day'), { target: { value: '2025-08-31' } });
    fireEvent.click(screen.getByRole('button', { name: 'Show range' }));
    // The API's `to` leaves its day out: the last day picked, 31 August, is to=2025-09-01.
    expect(query()).toBe('?environment=staging&from=2025-06-01&to=2025-09-01');
    await waitFor(() =>
      expect(sent(asked, 'period', 'from', 'to').pop()).toEqual([null, '2025-06-01', '2025-09-01']),
    );
    await pick('Period', 'Custom range', 'Last 30 days');
    expect(query()).toBe('?environment=staging');
    await waitFor(() => expect(sent(asked, 'period', 'from', 'to').pop()).toEqual(['last_30d', null, null]));
  });

  it("opens a link's range with its days in the range form", async () => {
    server.use(answer('/kpis/dora', f.doraApp));
    const asked = askedOf('/kpis/dora');
    await renderAt(<DoraPage />, '/rosetta-monitoring?from=2025-06-01&to=2025-09-01');
    expect(await screen.findByRole('button', { name: 'Period Custom range' })).toBeInTheDocument();
    expect(screen.getByLabelText('First day')).toHaveValue('2025-06-01');
    expect(screen.getByLabelText('Last day')).toHaveValue('2025-08-31');
    await waitFor(() => expect(asked.length).toBeGreaterThan(0));
    expect(sent(asked, 'period', 'from', 'to')).toEqual(asked.map(() => [null, '2025-06-01', '2025-09-01']));
  });

  // Each link holds one choice the page offers beside the one it does not: the first is kept, the second reads as
  // the default.
  it.each([
    ['a grouping that is none', '?period=last_90d&groupBy=squad', 'Application', 'Last 90 days'],
    ['a period of the entity tab', '?groupBy=team&period=last_24h', 'Team', 'Last 30 days'],
    ['a day that is not one', '?groupBy=team&from=2025-02-30&to=2025-03-10', 'Team', 'Last 30 days'],
    ['a last day before the first', '?groupBy=team&from=2025-09-01&to=2025-06-01', 'Team', 'Last 30 days'],
    ['a date-time the form never gives', '?groupBy=team&from=2025-06-01T00:00Z&to=2025-09-01', 'Team', 'Last 30 days'],
  ])('reads a link with %s as the default for it', async (_, search, groupLabel, periodLabel) => {
    server.use(answer('/kpis/dora', f.doraApp));
    const asked = askedOf('/kpis/dora');
    await renderAt(<DoraPage />, `/rosetta-monitoring${search}`);
    expect(await screen.findByText(f.doraApp.items[0].id)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: `Group by ${groupLabel}` })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: `Period ${periodLabel}` })).toBeInTheDocument();
    const groupBy = GROUP_BYS[groupLabel];
    const period = PERIODS[periodLabel];
    expect(sent(asked, 'groupBy', 'period', 'from', 'to')).toEqual(asked.map(() => [groupBy, period, null, null]));
  });

  it("opens a link on the view it names; another keeps the environment, not the first view's choices", async () => {
    server.use(
      // The overview of staging names it (health and risks are production's still).
      answer('/overview', { ...f.overview, environment: 'staging' }, { environment: 'staging' }),
      answer('/kpis/dora', f.doraApp),
      answer('/kpis/slo', f.sloTeam),
    );
    const dora = askedOf('/kpis/dora');
    const slo = askedOf('/kpis/slo');
    const link = '/rosetta-monitoring?environment=staging&view=dora&groupBy=domain&period=last_90d';
    await renderAt(<MonitoringPage />, link);
    expect(screen.getByRole('tab', { name: 'SRE / DORA' })).toHaveAttribute('aria-selected', 'true');
    await waitFor(() => expect(dora.length).toBeGreaterThan(0));
    expect(sent(dora, 'groupBy', 'period', 'environment')).toEqual(dora.map(() => ['domain', 'last_90d', 'staging']));
    fireEvent.click(screen.getByRole('tab', { name: 'SLO' }));
    expect(query()).toBe('?environment=staging&view=slo');
    await waitFor(() => expect(slo.length).toBeGreaterThan(0));
    // The SLO view's own defaults: by team, the last 30 days.
    expect(sent(slo, 'groupBy', 'period', 'environment')).toEqual(slo.map(() => ['team', 'last_30d', 'staging']));
    fireEvent.click(screen.getByRole('tab', { name: 'Dashboard' }));
    expect(query()).toBe('?environment=staging');
    expect(await screen.findByText('Health is judged in production only')).toBeInTheDocument();
    expect(await screen.findByText(f.doraApp.items[0].id)).toBeInTheDocument();
  });

  it('opens a link naming a view the page does not have on the dashboard, and another view replaces it', async () => {
    server.use(answer('/kpis/dora', f.doraGroup), answer('/kpis/slo', f.sloTeam));
    await renderAt(<MonitoringPage />, '/rosetta-monitoring?view=incidents');
    expect(screen.getByRole('tab', { name: 'Dashboard' })).toHaveAttribute('aria-selected', 'true');
    expect(await screen.findByTestId('health-totals')).toBeInTheDocument();
    expect(await screen.findByText(f.doraGroup.items[0].id)).toBeInTheDocument();
    fireEvent.click(screen.getByRole('tab', { name: 'SLO' }));
    expect(query()).toBe('?view=slo');
    expect(await screen.findByRole('table', { name: 'SLOs by team' })).toBeInTheDocument();
  });
});
