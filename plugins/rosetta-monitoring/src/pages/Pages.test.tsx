import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { answer, problem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { giveChartsASize, valueTicks } from '../__testUtils__/charts';
import { DashboardPage } from './DashboardPage';
import { DoraPage } from './DoraPage';
import { MonitoringPage } from './MonitoringPage';
import { RunPage } from './RunPage';
import { SloPage } from './SloPage';
import { SloTable } from '../components/SloTable';
import { LegacyMonitoringPage } from '../legacyComponents';

/** The toolbar (MUI's, which has no role to find it by) in the card of `table`, if any. */
function toolbarAbove(table: HTMLElement): Element | null {
  return table.closest('.MuiCard-root')!.querySelector('.MuiToolbar-root');
}

describe('pages', () => {
  registerServer();

  describe('dashboard', () => {
    it('says the estate has not been judged yet rather than showing no verdict', async () => {
      server.use(answer('/overview', { ...f.overview, estateHealth: null }), answer('/kpis/dora', f.doraGroup, { groupBy: 'group' }));
      await renderWithApi(<DashboardPage />);
      expect(await screen.findByTestId('estate-health')).toHaveTextContent(/^Estate: not judged yet$/);
    });
    it('shows health by domain, group and team, top risks and DORA per group', async () => {
      server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup, { groupBy: 'group' }));
      await renderWithApi(<DashboardPage />);
      expect(await screen.findByTestId('health-totals')).toHaveTextContent('2 green, 2 orange');
      // Two of four applications orange, none red: the estate is orange, for the two.
      expect(screen.getByTestId('estate-health')).toHaveTextContent(
        /^Estate: orange \(profiles is orange; partners is orange\)$/,
      );
      expect(screen.getByText(f.overview.topRisks[0].appName!)).toBeInTheDocument();
      expect(screen.getAllByText(f.overview.topRisks[0].reasons!.join('; ')).length).toBeGreaterThan(0);
      expect(await screen.findByText(f.doraGroup.items[0].id)).toBeInTheDocument();
    });
    // The page asks the overview for the last 30 days (its trends), but health and risk are judged over the last 7
    // days whatever the period: beside "Trends (30 days)", untitled, they would read as 30 days' verdicts.
    it('says health and the top risks are over the last 7 days, not the 30 days of the trends', async () => {
      server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup, { groupBy: 'group' }));
      await renderWithApi(<DashboardPage />);
      expect(await screen.findByText('Health by domain, group and team (last 7 days)')).toBeInTheDocument();
      expect(screen.getByText('Top risks (last 7 days)')).toBeInTheDocument();
      expect(screen.getByText('Trends (30 days)')).toBeInTheDocument();
    });
    // An application whose mapping entry names no team, unranked: its cells say unknown, where empty ones would read
    // as a rendering fault. Its reasons read whole, the latency SLO's sentence (a threshold with a thousands comma)
    // included.
    it('shows an unknown rank and team as "–" and every reason of a risk whole', async () => {
      const latency = 'p95 latency within 1,500 ms in 94.917% of the hours over 7 days is below the 95.000% target';
      const risk = { ...f.overview.topRisks[0], rank: null, team: null, reasons: [latency, '3 incidents in 7 days'] };
      server.use(answer('/overview', { ...f.overview, topRisks: [risk] }), answer('/kpis/dora', f.doraGroup));
      await renderWithApi(<DashboardPage />);
      const row = (await screen.findByText(risk.appName!)).closest('tr')!;
      const table = row.closest('table')!;
      const headers = within(table).getAllByRole('columnheader').map(h => h.textContent);
      const cells = within(row).getAllByRole('cell').map(c => c.textContent);
      expect(cells[headers.indexOf('Rank')]).toBe('–');
      expect(cells[headers.indexOf('Team')]).toBe('–');
      expect(cells[headers.indexOf('Reasons')]).toBe(`${latency}; 3 incidents in 7 days`);
    });
    // Neither the health levels, the top risks nor the DORA rows have a title or a search: no toolbar, an empty strip,
    // above them.
    it('shows the health levels, the top risks and the DORA rows without a toolbar above them', async () => {
      server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup, { groupBy: 'group' }));
      await renderWithApi(<DashboardPage />);
      expect(await screen.findByText(f.doraGroup.items[0].id)).toBeInTheDocument();
      for (const header of ['Orange', 'Rank', 'Deployment frequency']) {
        const table = screen.getByRole('columnheader', { name: header }).closest('table')!;
        expect(toolbarAbove(table)).toBeNull();
      }
    });
    // A team of 3 applications, one orange, one green and one without traffic nor events over 14 days: its row reads
    // 3 = 0 red + 1 orange + 1 green + 1 without data, not 3 applications of which only 2 are counted.
    it("counts a level's applications without data beside its red, orange and green ones", async () => {
      const kite = {
        level: 'team', levelId: 'team-kite', applications: 3, red: 0, orange: 1, green: 1, noData: 1,
        maxRiskScore: 20, health: 'orange', reasons: ['kite-api is orange'],
      };
      server.use(answer('/overview', { ...f.overview, health: [kite] }), answer('/kpis/dora', f.doraGroup));
      await renderWithApi(<DashboardPage />);
      const row = (await screen.findByText('team-kite')).closest('tr')!;
      const headers = screen.getAllByRole('columnheader').map(h => h.textContent);
      const cells = within(row).getAllByRole('cell').map(c => c.textContent);
      const figure = (header: string) => cells[headers.indexOf(header)];
      expect(['Applications', 'Red', 'Orange', 'Green', 'No data'].map(figure)).toEqual(['3', '0', '1', '1', '1']);
    });
    /*
     * The trend charts name their series as a person reads them, and the error rate in percent as everywhere else:
     * the recorded days' error rates run from 0.0889 % (28 November) to 0.1773 % (25 November), so its axis tops at
     * 0.180 %, not at 0.0018.
     */
    it('names the trend series and gives the error rate in percent', async () => {
      const restore = giveChartsASize();
      try {
        server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup));
        await renderWithApi(<DashboardPage />);
        // The error rate's axis: the line chart's, the second of the trends.
        const rateTicks = () => valueTicks(1);
        await waitFor(() => expect(rateTicks().length).toBeGreaterThan(0));
        const legend = Array.from(document.querySelectorAll('.recharts-legend-item-text')).map(e => e.textContent);
        expect(legend).toEqual(['Deployments', 'Incidents opened', 'Error rate']);
        const ticks = rateTicks();
        expect(ticks.every(t => t!.endsWith('%'))).toBe(true);
        expect(ticks[ticks.length - 1]).toBe('0.180%');
      } finally {
        restore();
      }
    });
    it("heads the DORA rows' column Group", async () => {
      server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup));
      await renderWithApi(<DashboardPage />);
      await screen.findByText(f.doraGroup.items[0].id);
      const doraTable = screen.getByRole('columnheader', { name: 'Change failure rate' }).closest('table')!;
      expect(within(doraTable).getAllByRole('columnheader')[0]).toHaveTextContent(/^Group$/);
    });
    // Every group is listed in "DORA per group", not only those of the report's first page.
    it('lists the DORA groups of every page', async () => {
      const [first, ...rest] = f.doraGroup.items;
      server.use(
        answer('/overview', f.overview),
        answer('/kpis/dora', { ...f.doraGroup, items: rest, page: { limit: 500, nextCursor: null } }, { cursor: 'p2' }),
        answer('/kpis/dora', { ...f.doraGroup, items: [first], page: { limit: 500, nextCursor: 'p2' } }),
      );
      await renderWithApi(<DashboardPage />);
      for (const row of f.doraGroup.items) {
        expect(await screen.findByText(row.id)).toBeInTheDocument();
      }
    });
    it('says when the estate has no figures', async () => {
      server.use(
        answer('/overview', { ...f.overview, health: [], trend: [], topRisks: [] }),
        answer('/kpis/dora', { ...f.doraGroup, items: [] }),
      );
      await renderWithApi(<DashboardPage />);
      expect(await screen.findByText('No health figures in the period')).toBeInTheDocument();
      expect(screen.getByText('No risks in the period')).toBeInTheDocument();
      expect(await screen.findByText('No DORA figures in the period')).toBeInTheDocument();
    });
    it('shows an error panel per widget when the API fails', async () => {
      server.use(problem('/overview', 500, 'Internal error', 'boom'), answer('/kpis/dora', f.doraGroup));
      await renderWithApi(<DashboardPage />);
      expect((await screen.findAllByText(/Could not load health figures/)).length).toBe(1);
      expect(await screen.findByText(f.doraGroup.items[0].id)).toBeInTheDocument();
    });
  });

  describe('SRE/DORA view', () => {
    it('shows each application with its performance levels', async () => {
      server.use(answer('/kpis/dora', f.doraApp));
      await renderWithApi(<DoraPage />);
      for (const row of f.doraApp.items) {
        expect(await screen.findByText(row.id)).toBeInTheDocument();
      }
      expect(screen.getByText('Change failure rate')).toBeInTheDocument();
      // The days the figures cover, from the answer's period (last_7d ending 2026-11-28 08:00 UTC).
      expect(screen.getByText(/^2026-11-21 to 2026-11-28, bands 2023/)).toBeInTheDocument();
    });
    // DORA's fifth metric beside the four: billing made 2 rollbacks or emergency deployments of 20 successful ones,
    // 10.0 %; booking deployed nothing, so it has no rate, and the state says why rather than a 0 %.
    it('shows each row\'s rework rate with what it counts, or the state that stands for it', async () => {
      const [billing, booking] = f.doraApp.items;
      const rows = [
        { ...billing, reworkRate: 0.1, reworkNumerator: 2, reworkDenominator: 20, reworkState: 'ok' },
        { ...booking, reworkRate: null, reworkNumerator: 0, reworkDenominator: 0, reworkState: 'no deployments' },
      ];
      server.use(answer('/kpis/dora', { ...f.doraApp, items: rows }));
      await renderWithApi(<DoraPage />);
      const rework = async (id: string) => {
        const cells = (await screen.findByRole('cell', { name: id })).closest('tr')!.querySelectorAll('td');
        return cells[cells.length - 1].textContent;
      };
      expect(await rework(billing.id)).toBe('10.0% (2 of 20)');
      expect(await rework(booking.id)).toBe('– (no deployments)');
    });
    // booking's mapping names no ArgoCD application nor GitLab project: the API gives no deployment frequency and the
    // state 'not mapped', which reads as such, not as a rate of "–/day".
    it('shows a deployment frequency the mapping gives no source for as not mapped', async () => {
      const [billing, booking] = f.doraApp.items;
      const dark = { ...booking, deploymentFrequencyPerDay: null, deploymentFrequencyState: 'not mapped' };
      server.use(answer('/kpis/dora', { ...f.doraApp, items: [billing, dark] }));
      await renderWithApi(<DoraPage />);
      const cells = (await screen.findByRole('cell', { name: booking.id })).closest('tr')!.querySelectorAll('td');
      expect(cells[1].textContent).toBe('– (not mapped)');
    });
    // The lake first read deployments on 24 November 08:00, after the period's start (21 November 08:00): billing's
    // 2 deployments, on one day, are over the 4 days since, 0.50/day, and the cell says so; booking's 2 deployments,
    // on 2 days, were read over the whole period, 2/7 a day, no note.
    it('says from when a lake younger than the period read deployments', async () => {
      const [billing, booking] = f.doraApp.items;
      const young = {
        ...billing,
        deploymentsFrom: '2026-11-24T08:00:00Z',
        deploymentFrequencyNumerator: 2,
        deploymentFrequencyDenominatorDays: 4,
        deploymentFrequencyPerDay: 0.5,
        daysWithDeployments: 1,
        deploymentFrequencyLevel: 'high',
        deploymentFrequencyState: 'ok',
      };
      const whole = {
        ...booking,
        deploymentsFrom: f.doraApp.period.start,
        deploymentFrequencyNumerator: 2,
        deploymentFrequencyPerDay: 2 / 7,
        daysWithDeployments: 2,
        weeksWithDeployments: 1,
        monthsWithDeployments: 1,
        deploymentFrequencyLevel: 'high',
        deploymentFrequencyState: 'ok',
      };
      server.use(answer('/kpis/dora', { ...f.doraApp, items: [young, whole] }));
      await renderWithApi(<DoraPage />);
      const frequency = async (id: string) =>
        (await screen.findByRole('cell', { name: id })).closest('tr')!.querySelectorAll('td')[1].textContent;
      expect(await frequency(billing.id)).toBe('0.50/day · high, on 1 of 4 days · read since 2026-11-24');
      expect(await frequency(booking.id)).toBe('0.29/day · high, on 2 of 7 days');
    });
    // The frequency's level is a cadence met by days with a deployment, not by the rate: billing deployed 45 times on
    // 15 of the 30 days (1.50/day, high: daily asks for 20 days), booking 30 times on one day (1.00/day, medium). The
    // cells read "1.50/day · high" and "1.00/day · medium", a rate past elite's one a day beside a lower level; they
    // now say on how many days.
    it('says on how many days a deployment frequency was met, its level resting on them', async () => {
      const [billing, booking] = f.doraApp.items;
      const period = { name: 'last_30d', start: '2026-10-29T08:00:00Z', end: '2026-11-28T08:00:00Z' };
      const ok = { deploymentsFrom: period.start, deploymentFrequencyState: 'ok', deploymentFrequencyDenominatorDays: 30 };
      const frequent = {
        ...billing,
        ...ok,
        deploymentFrequencyPerDay: 1.5,
        deploymentFrequencyLevel: 'high',
        deploymentFrequencyNumerator: 45,
        daysWithDeployments: 15,
      };
      const burst = {
        ...booking,
        ...ok,
        deploymentFrequencyPerDay: 1,
        deploymentFrequencyLevel: 'medium',
        deploymentFrequencyNumerator: 30,
        daysWithDeployments: 1,
      };
      server.use(answer('/kpis/dora', { ...f.doraApp, period, items: [frequent, burst] }));
      await renderWithApi(<DoraPage />);
      const frequency = async (id: string) =>
        (await screen.findByRole('cell', { name: id })).closest('tr')!.querySelectorAll('td')[1].textContent;
      expect(await frequency(billing.id)).toBe('1.50/day · high, on 15 of 30 days');
      expect(await frequency(booking.id)).toBe('1.00/day · medium, on 1 of 30 days');
    });
    // Each row's first cell is announced with its column's header: it names what the rows are (the report's grouping),
    // not "Id". The application report's rows are applications, the dashboard's DORA rows groups.
    it("heads the rows' column with the report's grouping", async () => {
      server.use(answer('/kpis/dora', f.doraApp));
      await renderWithApi(<DoraPage />);
      await screen.findByText(f.doraApp.items[0].id);
      expect(screen.getAllByRole('columnheader')[0]).toHaveTextContent(/^Application$/);
      expect(screen.queryByRole('columnheader', { name: 'Id' })).not.toBeInTheDocument();
    });
    it('asks for a custom range with its last day included', async () => {
      const summer = { ...f.doraApp, period: { name: null, start: '2025-06-01T00:00:00Z', end: '2025-09-01T00:00:00Z' } };
      server.use(
        // The API's `to` leaves its day out: the last day picked, 31 August, means to=2025-09-01.
        answer('/kpis/dora', summer, { groupBy: 'app', from: '2025-06-01', to: '2025-09-01' }),
        answer('/kpis/dora', f.doraApp, { groupBy: 'app', period: 'last_30d' }),
      );
      await renderWithApi(<DoraPage />);
      expect(await screen.findByText(/^2026-11-21 to 2026-11-28/)).toBeInTheDocument();
      fireEvent.change(screen.getByLabelText('First day'), { target: { value: '2025-06-01' } });
      fireEvent.change(screen.getByLabelText('Last day'), { target: { value: '2025-08-31' } });
      fireEvent.click(screen.getByRole('button', { name: 'Show range' }));
      expect(await screen.findByText(/^2025-06-01 to 2025-08-31, bands 2023/)).toBeInTheDocument();
    });
    it('refuses a range whose last day comes before its first', async () => {
      server.use(answer('/kpis/dora', f.doraApp, { groupBy: 'app', period: 'last_30d' }));
      await renderWithApi(<DoraPage />);
      await screen.findByText(/^2026-11-21 to 2026-11-28/);
      fireEvent.change(screen.getByLabelText('First day'), { target: { value: '2025-09-01' } });
      fireEvent.change(screen.getByLabelText('Last day'), { target: { value: '2025-06-01' } });
      fireEvent.click(screen.getByRole('button', { name: 'Show range' }));
      expect(screen.getByRole('alert')).toHaveTextContent('the first on or before the last');
      expect(screen.getByText(/^2026-11-21 to 2026-11-28/)).toBeInTheDocument();
    });
    // Every application of a large estate is listed, not only those of the report's first page.
    it('lists the rows of every page of the report', async () => {
      const [first, ...rest] = f.doraApp.items;
      server.use(
        answer('/kpis/dora', { ...f.doraApp, items: rest, page: { limit: 500, nextCursor: null } }, { cursor: 'p2' }),
        answer('/kpis/dora', { ...f.doraApp, items: [first], page: { limit: 500, nextCursor: 'p2' } }),
      );
      await renderWithApi(<DoraPage />);
      for (const row of f.doraApp.items) {
        expect(await screen.findByText(row.id)).toBeInTheDocument();
      }
      expect(screen.queryByText(/Only the first/)).not.toBeInTheDocument();
    });
    // The client reads 20 pages at most: a report longer than that says its table is not the whole estate, and
    // advises a wider grouping, the one control that lists fewer rows (the applications are the same over any period).
    it('says when the report has more pages than it read', async () => {
      const [first] = f.doraApp.items;
      // Each page names the next, p1 then p2 and on, past the 20 pages the view reads.
      const page = (n: number) => ({ ...f.doraApp, items: [first], page: { limit: 500, nextCursor: `p${n + 1}` } });
      server.use(
        ...Array.from({ length: 20 }, (_, n) => answer('/kpis/dora', page(n + 1), { cursor: `p${n + 1}` })),
        answer('/kpis/dora', page(0)),
      );
      await renderWithApi(<DoraPage />);
      expect(await screen.findByText('Info: Only the first 20 rows are shown: group by a wider level to see the rest')).toBeInTheDocument();
    });
    // One deployment over a year-long range is 1/366 a day: rounded to two decimals it would read 0.00/day, as if
    // the application never deployed. Its one day, week and month with a deployment are low's cadence at best.
    it('shows a deployment frequency too small for two decimals as under 0.01 a day, never as 0.00', async () => {
      const rare = {
        ...f.doraApp.items[0],
        id: 'rare-app',
        deploymentFrequencyNumerator: 1,
        deploymentFrequencyDenominatorDays: 366,
        deploymentFrequencyPerDay: 1 / 366,
        deploymentFrequencyLevel: 'low',
        deploymentFrequencyState: 'ok',
      };
      server.use(answer('/kpis/dora', { ...f.doraApp, items: [rare] }));
      await renderWithApi(<DoraPage />);
      const row = (await screen.findByText('rare-app')).closest('tr')!;
      expect(within(row).getAllByRole('cell')[1].textContent).toBe('< 0.01/day · low, on 1 of 366 days');
    });
    // An elite team's durations are minutes: a 3-minute lead time must not read "0.0 h", as if it were none.
    /** An application's DORA row whose median lead and recovery times, in hours, are both elite. */
    function eliteTimes(id: string, leadTimeMedianHours: number, recoveryMedianHours: number) {
      const elite = { leadTimeLevel: 'elite', leadTimeState: 'ok', recoveryLevel: 'elite', recoveryState: 'ok' };
      return { ...f.doraApp.items[0], ...elite, id, leadTimeMedianHours, recoveryMedianHours };
    }

    /** The cells of the DORA view's row of `item`, the API answering it alone. */
    async function doraCellsOf(item: { id: string }): Promise<(string | null)[]> {
      server.use(answer('/kpis/dora', { ...f.doraApp, items: [item] }));
      await renderWithApi(<DoraPage />);
      const row = (await screen.findByText(item.id)).closest('tr')!;
      return within(row).getAllByRole('cell').map(cell => cell.textContent);
    }

    it('shows durations under an hour in minutes', async () => {
      // 0.05 h x 60 = 3 min; 0.5 h x 60 = 30 min
      const cells = await doraCellsOf(eliteTimes('fast-app', 0.05, 0.5));
      expect(cells[2]).toBe('3 min · elite');
      expect(cells[4]).toBe('30 min · elite');
    });
    // Elite is a lead time under 24 h and a recovery under 1 h: a median just under the bound, rounded, read as the
    // bound itself beside the level that excludes it ('24.0 h · elite', '1.0 h · elite').
    it('never rounds a lead time or a recovery time up to the bound of the level it is in', async () => {
      // 23.96 h cut to one decimal: 23.9 h (rounded: 24.0); 0.995 h x 60 = 59.7 min, cut: 59 min (rounded: 60 min,
      // read '1.0 h')
      const cells = await doraCellsOf(eliteTimes('just-under', 23.96, 0.995));
      expect(cells[2]).toBe('23.9 h · elite');
      expect(cells[4]).toBe('59 min · elite');
    });
    // Elite is a change failure rate of at most 5 %: 6 failures in 119 deployments is 6 / 119 = 5.04 %, high, which
    // rounded to one decimal read '5.0% · high', the bound of elite beside high; 1 in 20 is 5 % exactly, elite.
    it('never rounds a change failure rate down to the bound of the level above it', async () => {
      const justOver = {
        ...f.doraApp.items[0],
        id: 'just-over',
        changeFailureNumerator: 6,
        changeFailureDenominator: 119,
        changeFailureRate: 6 / 119,
        changeFailureLevel: 'high',
        changeFailureState: 'ok',
      };
      const atBound = {
        ...justOver,
        id: 'at-bound',
        changeFailureNumerator: 1,
        changeFailureDenominator: 20,
        changeFailureRate: 1 / 20,
        changeFailureLevel: 'elite',
      };
      server.use(answer('/kpis/dora', { ...f.doraApp, items: [justOver, atBound] }));
      await renderWithApi(<DoraPage />);
      const rate = async (id: string) =>
        within((await screen.findByText(id)).closest('tr')!).getAllByRole('cell')[3].textContent;
      expect(await rate('just-over')).toBe('> 5.0% · high');
      expect(await rate('at-bound')).toBe('5.0% · elite');
    });
    it('says when there is no DORA figure', async () => {
      server.use(answer('/kpis/dora', { ...f.doraApp, items: [] }));
      await renderWithApi(<DoraPage />);
      expect(await screen.findByText('No DORA figures in the period')).toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(problem('/kpis/dora', 500, 'Internal error', 'boom'));
      await renderWithApi(<DoraPage />);
      expect(await screen.findByText(/Could not load DORA figures/)).toBeInTheDocument();
    });
  });

  describe('SLO view', () => {
    function cellsOf(table: HTMLElement): string[][] {
      return within(table)
        .getAllByRole('row')
        .slice(1)
        .map(row => within(row).queryAllByRole('cell').map(cell => cell.textContent ?? ''));
    }

    it('shows each team against its own targets, with its error budget and burn rates', async () => {
      server.use(answer('/kpis/slo', f.sloTeam, { groupBy: 'team', period: 'last_30d' }));
      await renderWithApi(<SloPage />);
      await screen.findByText('team-heron');
      const table = screen.getByRole('columnheader', { name: 'Error budget left' }).closest('table')!;
      expect(cellsOf(table)).toEqual([
        ['team-egret', '99.812% · met', '99.50%', '62.4%', '0.37 / 0.20', 'none', '97.0% · met', "p95 ≤ its applications' thresholds in 95.00% of hours", '100%'],
        ['team-heron', '99.010% · breached', '99.90%', '-890.0%', '9.90 / 16.20', 'page', 'no data', '–', '60%'],
      ]);
      expect(screen.getByText(/^2026-10-29 to 2026-11-28, environment production/)).toBeInTheDocument();
      expect(toolbarAbove(table)).toBeNull();
    });
    // 99.9499 % against a 99.95 % target is breached: the row reads 99.949 %, cut, not 99.950 %, the target itself.
    it('never rounds a breached availability up to its target', async () => {
      const [egret] = f.sloTeam.items;
      const row = { ...egret, availability: 0.999499, availabilityTarget: 0.9995, availabilityStatus: 'breached' };
      server.use(answer('/kpis/slo', { ...f.sloTeam, items: [row] }));
      await renderWithApi(<SloPage />);
      await screen.findByText('team-egret');
      const table = screen.getByRole('columnheader', { name: 'Error budget left' }).closest('table')!;
      expect(cellsOf(table)[0].slice(0, 3)).toEqual(['team-egret', '99.949% · breached', '99.95%']);
    });
    // Five nines, 99.999 %, rounded to two decimals would read 100.00 %; a 99.5 % target keeps its two decimals.
    it('shows each target with the decimals it is set with', async () => {
      const [egret, heron] = f.sloTeam.items;
      const fiveNines = { ...egret, availability: 0.999985, availabilityTarget: 0.99999, availabilityStatus: 'breached' };
      server.use(answer('/kpis/slo', { ...f.sloTeam, items: [fiveNines, heron] }));
      await renderWithApi(<SloPage />);
      await screen.findByText('team-egret');
      const table = screen.getByRole('columnheader', { name: 'Error budget left' }).closest('table')!;
      expect(cellsOf(table).map(row => row.slice(0, 3))).toEqual([
        ['team-egret', '99.998% · breached', '99.999%'],
        ['team-heron', '99.010% · breached', '99.90%'],
      ]);
    });
    // 1,883 good hours of 1,983 measured: 94.957 % of the hours under the p95 threshold, short of the 95 % target, so
    // breached; to one decimal it reads 94.9 %, cut, not 95.0 %, the target it missed.
    it('never rounds a breached latency SLI up to its target', async () => {
      const [egret] = f.sloTeam.items;
      const row = { ...egret, latencyP95Sli: 1883 / 1983, latencyTarget: 0.95, latencyP95Status: 'breached' };
      server.use(answer('/kpis/slo', { ...f.sloTeam, items: [row] }));
      await renderWithApi(<SloPage />);
      await screen.findByText('team-egret');
      const table = screen.getByRole('columnheader', { name: 'Error budget left' }).closest('table')!;
      expect(cellsOf(table)[0][6]).toBe('94.9% · breached');
    });
    // 99.96 % of the hours under the threshold against a 99.95 % target is met: cut to one decimal it read 99.9 %, under
    // the 99.95 % its objective names. It reads with the target's decimals; one short of it, 99.949 %, reads 99.94 %.
    it("shows a latency SLI with as many decimals as its target, so that a met one never reads under it", async () => {
      const [egret] = f.sloTeam.items;
      const rows = [
        { ...egret, id: 'team-a', latencyP95Sli: 0.9996, latencyTarget: 0.9995, latencyP95Status: 'met' },
        { ...egret, id: 'team-b', latencyP95Sli: 0.99949, latencyTarget: 0.9995, latencyP95Status: 'breached' },
      ];
      expect(await sloColumn(rows, 'Latency p95')).toEqual(['99.96% · met', '99.94% · breached']);
      expect(screen.getAllByText("p95 ≤ its applications' thresholds in 99.95% of hours")).toHaveLength(2);
    });
    // The latency SLI is a share of hours whose p95 stayed under a threshold: an application's row says which threshold
    // and which share it is held to, as the availability's target column does (500 ms, 95 % of the hours). Only
    // application rows carry a threshold.
    it('says what the latency SLO holds each row to: the p95 threshold and the share of hours', async () => {
      const [egret] = f.sloTeam.items;
      const row = { ...egret, id: 'profiles', latencyP95Sli: 0.97, latencyTarget: 0.95, latencyP95ThresholdMs: 500 };
      await renderWithApi(<SloTable rows={[row]} groupBy="app" />);
      await screen.findByText('profiles');
      const table = screen.getByRole('columnheader', { name: 'Latency objective' }).closest('table')!;
      const headers = Array.from(table.querySelectorAll('th')).map(th => th.textContent);
      expect(cellsOf(table)[0][headers.indexOf('Latency objective')]).toBe('p95 ≤ 500 ms in 95.00% of hours');
    });
    // A period burn rate of 0.9996 has not spent the budget (1 spends it exactly), and a 1-hour rate of 14.396 is not
    // over the 14.4 that pages: rounded, they read 1.00 and 14.40 beside an alert that did not fire. Cut, they read
    // 0.99 and 14.39. A rate of 0.004 is errors in the window: it reads under 0.01, not 0.00.
    it('never rounds a burn rate up to the bound it is under, nor a small one down to none', async () => {
      const [egret] = f.sloTeam.items;
      const rows = [
        { ...egret, id: 'team-a', burnRatePeriod: 0.9996, burnRate1H: 14.396, burnRateAlert: 'ticket' },
        { ...egret, id: 'team-b', burnRatePeriod: 0.004, burnRate1H: 0, burnRateAlert: 'none' },
      ];
      expect(await sloColumn(rows, 'Burn rate (period / 1 h)')).toEqual(['0.99 / 14.39', '< 0.01 / 0.00']);
    });
    // A team's row sums applications each held to its own p95 threshold: the API gives it no threshold (null), only
    // the share of hours it is held to, weighted over them. The objective read "–" on every team row of the view.
    it("says what a team's latency SLI is held to, without a threshold of its own", async () => {
      const [egret] = f.sloTeam.items;
      const rows = [{ ...egret, id: 'team-a', latencyP95ThresholdMs: null, latencyTarget: 0.96 }];
      expect(await sloColumn(rows, 'Latency objective')).toEqual([
        "p95 ≤ its applications' thresholds in 96.00% of hours",
      ]);
    });
    // A team's target weighs its applications': two held to 95 % and one to 99 %, over as many hours each, make
    // (2 x 0.95 + 0.99) / 3 = 2.89 / 3 = 96.3333… %; one held to 95 % and two to 97.5 % make 2.9 / 3 = 96.6666… %. To
    // three decimals, cut as the figures judged against them are: 96.333 % and 96.666 %, not 96.333333 %, and not the
    // 96.667 % rounding gives, over the 96.666 % an SLI of 0.966667 (met: over 2.9 / 3) reads cut.
    it('shows a weighted target to three decimals, never over a figure that met it', async () => {
      const [egret] = f.sloTeam.items;
      const rows = [
        { ...egret, id: 'team-a', availability: 0.96334, availabilityTarget: 2.89 / 3, latencyP95Sli: 0.963334, latencyTarget: 2.89 / 3 },
        { ...egret, id: 'team-b', availability: 0.966667, availabilityTarget: 2.9 / 3, latencyP95Sli: 0.966667, latencyTarget: 2.9 / 3 },
      ];
      const targets = await sloColumn(rows, 'Target');
      const table = screen.getByRole('columnheader', { name: 'Latency objective' }).closest('table')!;
      expect([targets, ...cellsOf(table).map(cells => [cells[1], cells[6], cells[7]])]).toEqual([
        ['96.333%', '96.666%'],
        ['96.334% · met', '96.333% · met', "p95 ≤ its applications' thresholds in 96.333% of hours"],
        ['96.666% · met', '96.666% · met', "p95 ≤ its applications' thresholds in 96.666% of hours"],
      ]);
    });
    /** The cells of `column` in the SLO view, row by row, the API answering `rows` (the first one's id: team-a). */
    async function sloColumn(rows: object[], column: string): Promise<string[]> {
      server.use(answer('/kpis/slo', { ...f.sloTeam, items: rows }));
      await renderWithApi(<SloPage />);
      await screen.findByText('team-a');
      const table = screen.getByRole('columnheader', { name: column }).closest('table')!;
      const headers = Array.from(table.querySelectorAll('th')).map(th => th.textContent);
      return cellsOf(table).map(cells => cells[headers.indexOf(column)]);
    }

    // 99.96 % of the budget left is not the whole budget, and 0.04 % overspent is not 0.0 % left: the figure is cut,
    // never rounded up to 100.0 % (untouched) or to 0.0 % (spent to the last request).
    it('never rounds the error budget left up to untouched or up from overspent', async () => {
      const [egret] = f.sloTeam.items;
      const rows = [
        { ...egret, id: 'team-a', errorBudgetRemaining: 0.9996 },
        { ...egret, id: 'team-b', errorBudgetRemaining: -0.0004 },
        { ...egret, id: 'team-c', errorBudgetRemaining: 0.0004 },
      ];
      expect(await sloColumn(rows, 'Error budget left')).toEqual(['99.9%', '-0.1%', '< 0.1%']);
    });
    // Coverage is the share of the period's hours measured, and under 50 % the status is 'insufficient data':
    // 99.5 % rounded read 100 %, every hour measured, and 49.96 % read 50 %, the minimum it falls short of. Cut, they
    // read 99 % and 49 %; a sliver (0.6 %, 4 of 720 hours) reads under 1 %, not 0 %.
    it('never rounds a coverage up to whole or to the minimum it falls short of', async () => {
      const [egret] = f.sloTeam.items;
      const rows = [
        { ...egret, id: 'team-a', coverage: 0.995 },
        { ...egret, id: 'team-b', coverage: 0.4996, availabilityStatus: 'insufficient data' },
        { ...egret, id: 'team-c', coverage: 4 / 720, availabilityStatus: 'insufficient data' },
        { ...egret, id: 'team-d', coverage: 1 },
      ];
      expect(await sloColumn(rows, 'Coverage')).toEqual(['99%', '49%', '< 1%', '100%']);
    });
    // On a month's first day, before its first hour is built, the API gives this month as an empty period (its end at
    // its start), its rows without data. The view read "2026-12-01 to 2026-11-30", a range ending before it begins.
    it('says a period the figures have not reached yet covers no day', async () => {
      const [egret] = f.sloTeam.items;
      const empty = { ...egret, availability: null, availabilityStatus: 'no data', coverage: null, errorBudgetRemaining: null };
      const month = { name: 'month', start: '2026-12-01T00:00:00Z', end: '2026-12-01T00:00:00Z' };
      server.use(answer('/kpis/slo', { ...f.sloTeam, period: month, items: [empty] }));
      await renderWithApi(<SloPage />);
      await screen.findByText('team-egret');
      expect(screen.getByText(/^no day yet \(the period starts on 2026-12-01\), environment production/)).toBeInTheDocument();
      expect(screen.queryByText(/2026-12-01 to 2026-11-30/)).not.toBeInTheDocument();
    });
    it("heads the rows' column with the report's grouping", async () => {
      server.use(answer('/kpis/slo', f.sloTeam));
      await renderWithApi(<SloPage />);
      await screen.findByText('team-egret');
      expect(screen.getAllByRole('columnheader')[0]).toHaveTextContent(/^Team$/);
      expect(screen.queryByRole('columnheader', { name: 'Id' })).not.toBeInTheDocument();
    });
    it('asks for the grouping and the range of days chosen', async () => {
      server.use(
        answer('/kpis/slo', { ...f.sloTeam, items: [] }, { groupBy: 'team', period: 'last_30d' }),
        answer('/kpis/slo', f.sloTeam, { groupBy: 'team', from: '2026-11-01', to: '2026-11-08' }),
      );
      await renderWithApi(<SloPage />);
      expect(await screen.findByText('No SLO figures in the period')).toBeInTheDocument();
      fireEvent.change(screen.getByLabelText('First day'), { target: { value: '2026-11-01' } });
      fireEvent.change(screen.getByLabelText('Last day'), { target: { value: '2026-11-07' } });
      fireEvent.click(screen.getByRole('button', { name: 'Show range' }));
      expect(await screen.findByText('team-egret')).toBeInTheDocument();
    });
  });

  describe('run view', () => {
    /**
     * The cells of each body row of the first table whose header has `column`, as their text (the heatmap's corner
     * names its rows too, after the backlog table).
     */
    function rowsOf(column: string): string[][] {
      const table = screen.getAllByRole('columnheader', { name: column })[0].closest('table')!;
      return within(table)
        .getAllByRole('row')
        .slice(1)
        .map(row => within(row).queryAllByRole('cell').map(cell => cell.textContent ?? ''));
    }

    /** The run view's three reports, as recorded, answered only as the view asks for them. */
    function answerRunReports() {
      server.use(
        answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app', period: 'last_30d' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team', period: 'last_30d' }),
        answer('/kpis/changes', f.changesReportTeam, { groupBy: 'team', period: 'last_30d' }),
      );
    }

    // The report covers 29 October 00:00 to 28 November 08:00 (the last build's hour), UTC: the view says so, as the
    // SLO and DORA views do, rather than a '30 days' that leaves which ones to guess.
    it('says which days and which environment its figures cover', async () => {
      answerRunReports();
      await renderWithApi(<RunPage />);
      expect(await screen.findByText(/^2026-10-29 to 2026-11-28, environment production/)).toBeInTheDocument();
    });
    it('shows the backlog by application and by team from the incidents report, and the changes, in three calls', async () => {
      const calls: string[] = [];
      const seen = ({ request }: { request: Request }) => {
        const url = new URL(request.url);
        calls.push(`${url.pathname.replace(/.*\/monitoring/, '')}?${url.searchParams}`);
      };
      server.events.on('request:start', seen);
      answerRunReports();
      await renderWithApi(<RunPage />);
      await screen.findAllByRole('columnheader', { name: 'Application' });
      await screen.findByRole('columnheader', { name: 'Applications' });
      // The largest backlog first, by name where the mapping gives one: profiles has a P1 open, search a P3 open (opened before the period),
      // partners none open but one opened; billing nothing.
      expect(rowsOf('Application')).toEqual([
        ['Profiles', 'team-egret', '1', '1', '1', '3', '4.0 h', '2.0 h'],
        ['search', 'team-egret', '1', '0', '0', '0', '–', '–'],
        ['partners', 'team-heron', '0', '0', '0', '1', '3.0 h', '3.0 h'],
        ['billing', 'team-heron', '0', '0', '0', '0', '–', '–'],
      ]);
      // team-egret: profiles and search, 2 open at the end of the period (one P1/P2), 3 opened.
      expect(rowsOf('Applications')).toEqual([
        ['team-egret', '2', '2', '1', '1', '3', '4.0 h', '2.0 h'],
        ['team-heron', '2', '0', '0', '0', '1', '3.0 h', '3.0 h'],
      ]);
      // The environment picker's list of environments aside.
      expect(calls.filter(call => call.startsWith('/kpis/')).sort()).toEqual([
        '/kpis/changes?groupBy=team&period=last_30d&limit=500',
        '/kpis/incidents?groupBy=app&period=last_30d&limit=500',
        '/kpis/incidents?groupBy=team&period=last_30d&limit=500',
      ]);
      server.events.removeListener('request:start', seen);
    });
    // A period none of whose days was read from ServiceNow has unknown figures (null), not 0: such a row reads '–' in
    // each and comes after the rows whose figures are known, whatever they are.
    it('shows an application whose figures are unknown with dashes, after the known ones', async () => {
      const [profiles, ...others] = f.incidentsReportApp.items;
      const unknown = {
        ...profiles,
        id: 'aardvark',
        name: null,
        openEndOfPeriod: null,
        openP1P2EndOfPeriod: null,
        slaBreaches: null,
        opened: null,
        mttrMeanHours: null,
        mttrMedianHours: null,
      };
      server.use(
        answer('/kpis/incidents', { ...f.incidentsReportApp, items: [unknown, profiles, ...others] }, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', f.changesReportTeam),
      );
      await renderWithApi(<RunPage />);
      await screen.findAllByRole('columnheader', { name: 'Application' });
      const rows = rowsOf('Application');
      expect(rows.map(r => r[0])).toEqual(['Profiles', 'search', 'partners', 'billing', 'aardvark']);
      expect(rows[4].slice(2, 6)).toEqual(['–', '–', '–', '–']);
    });
    // The backlog and change tables take their titles from their cards and have no search: no toolbar, an empty
    // strip, above them.
    it('shows the backlog and change tables without a toolbar above them', async () => {
      answerRunReports();
      await renderWithApi(<RunPage />);
      await screen.findByRole('columnheader', { name: 'Applications' });
      const tables = new Set(
        ['Application', 'Applications', 'Change failure rate']
          .map(name => screen.getAllByRole('columnheader', { name })[0].closest('table')!),
      );
      expect(tables.size).toBe(3);
      for (const table of tables) expect(toolbarAbove(table)).toBeNull();
    });
    it('shows the heatmap: every day of the period, a row per application that opened an incident', async () => {
      server.use(
        answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', f.changesReportTeam),
      );
      await renderWithApi(<RunPage />);
      const heatmap = await screen.findByRole('table', { name: 'incident heatmap' });
      const [header, ...rows] = within(heatmap).getAllByRole('row');
      const days = within(header).getAllByRole('columnheader').map(th => th.textContent);
      // 29 October to 28 November: 31 days, after the corner cell.
      expect(days).toHaveLength(32);
      expect([days[1], days[31]]).toEqual(['10-29', '11-28']);
      // search opened nothing in the period (its open incident is older), billing nothing at all.
      expect(rows.map(r => within(r).getByRole('rowheader').textContent)).toEqual(['partners', 'Profiles']);
      const profiles = within(rows[1]).getAllByRole('cell');
      expect(profiles).toHaveLength(31);
      // 26 November is the 29th day, 27 November the 30th.
      expect(profiles.map(td => td.textContent).filter(Boolean)).toEqual(['2', '1']);
      expect(profiles[28]).toHaveAttribute('title', '2026-11-26: 2');
      expect(profiles[29]).toHaveAttribute('title', '2026-11-27: 1');
      expect(within(rows[0]).getByTitle('2026-11-20: 1')).toHaveTextContent('1');
    });
    // The corner names what the rows are. A day the answer gives no figure for is no data, not zero: profiles' row
    // here stops at 26 November, so its 28 days before (29 to 31 October, 3, and 1 to 25 November, 25) read "–",
    // then 2 opened on the 26th, 1 on the 27th and none (a blank) on the 28th: 28 + 3 = 31 cells.
    it("names the heatmap's corner, and shows a day without figures as no data", async () => {
      const [, partners, profiles] = f.incidentsReportApp.items;
      const late = { ...profiles, days: profiles.days.filter(d => d.day >= '2026-11-26') };
      server.use(
        answer('/kpis/incidents', { ...f.incidentsReportApp, items: [partners, late] }, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', f.changesReportTeam),
      );
      await renderWithApi(<RunPage />);
      const heatmap = await screen.findByRole('table', { name: 'incident heatmap' });
      const [header, partnersRow, profilesRow] = within(heatmap).getAllByRole('row');
      expect(within(header).getAllByRole('columnheader')[0]).toHaveTextContent(/^Application$/);
      const cells = within(profilesRow).getAllByRole('cell');
      expect(cells.map(td => td.textContent)).toEqual([...Array(28).fill('–'), '2', '1', '']);
      expect(within(profilesRow).getAllByRole('cell', { name: 'no data' })).toHaveLength(28);
      expect(cells[0]).toHaveAttribute('title', '2026-10-29: no data');
      // partners has every day: no cell of its row is without data.
      expect(within(partnersRow).queryAllByRole('cell', { name: 'no data' })).toHaveLength(0);
      // A day with none opened is blank to the eye and "0" to a screen reader, which would otherwise read an empty cell.
      expect(within(profilesRow).getByRole('cell', { name: '0' })).toHaveAttribute('title', '2026-11-28: 0');
      const calendar = screen.getByRole('table', { name: 'change calendar' });
      expect(within(calendar).getAllByRole('columnheader')[0]).toHaveTextContent(/^Team$/);
    });
    // A period before the lake first read ServiceNow's incidents: every row's count is null (unknown). The heatmap
    // lists the applications that opened one: none to list, its grid of days alone would read as no incident.
    it('says the incidents opened are unknown when no day of the period was read, not an empty heatmap', async () => {
      const unread = f.incidentsReportApp.items.map(row => ({
        ...row,
        opened: null,
        days: row.days.map(d => ({ ...d, opened: null })),
      }));
      server.use(
        answer('/kpis/incidents', { ...f.incidentsReportApp, items: unread }, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', f.changesReportTeam),
      );
      await renderWithApi(<RunPage />);
      expect(await screen.findByText('Incidents opened unknown')).toBeInTheDocument();
      expect(
        screen.getByText('No day of the period was read from ServiceNow: the incidents opened are unknown, not none.'),
      ).toBeInTheDocument();
      expect(screen.queryByRole('table', { name: 'incident heatmap' })).not.toBeInTheDocument();
    });
    // Every application of a large estate is listed, not only those of the report's first page.
    it('lists the applications of every page of the report', async () => {
      const [billing, partners, profiles, search] = f.incidentsReportApp.items;
      const page = (items: typeof billing[], nextCursor: string | null) => ({
        ...f.incidentsReportApp,
        items,
        page: { limit: 500, nextCursor },
      });
      server.use(
        answer('/kpis/incidents', page([profiles, search], null), { groupBy: 'app', cursor: 'p2' }),
        answer('/kpis/incidents', page([billing, partners], 'p2'), { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', f.changesReportTeam),
      );
      await renderWithApi(<RunPage />);
      await screen.findAllByRole('columnheader', { name: 'Application' });
      expect(rowsOf('Application').map(r => r[0])).toEqual(['Profiles', 'search', 'partners', 'billing']);
      const heatmap = screen.getByRole('table', { name: 'incident heatmap' });
      expect(within(heatmap).getAllByRole('rowheader').map(th => th.textContent)).toEqual(['partners', 'Profiles']);
    });
    it('warns when the figures are stale', async () => {
      const stale = { ...f.incidentsReportApp.freshness, lagSeconds: 3 * 3600 };
      server.use(
        answer('/kpis/incidents', { ...f.incidentsReportApp, freshness: stale }, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', f.changesReportTeam),
      );
      await renderWithApi(<RunPage />);
      await screen.findByRole('table', { name: 'incident heatmap' });
      // The backlog by application and the heatmap read the stale answer; the team answer is 21 minutes old.
      expect(screen.getAllByText(/Stale: figures are 3.0 h old \(as of 2026-11-28 08:00:00 UTC\)/)).toHaveLength(2);
    });
    it('says when no application is known', async () => {
      server.use(
        answer('/kpis/incidents', { ...f.incidentsReportApp, items: [] }),
        answer('/kpis/changes', { ...f.changesReportTeam, items: [] }),
      );
      await renderWithApi(<RunPage />);
      expect(await screen.findByText('No applications in the period')).toBeInTheDocument();
      expect(await screen.findByText('No teams in the period')).toBeInTheDocument();
      expect(screen.getByText('No incidents in the period')).toBeInTheDocument();
      expect(await screen.findByText('No changes in the period')).toBeInTheDocument();
    });
    it('shows an error panel per widget when the API fails', async () => {
      server.use(problem('/kpis/incidents', 500, 'Internal error', 'boom'), answer('/kpis/changes', f.changesReportTeam));
      await renderWithApi(<RunPage />);
      expect(await screen.findByText(/Could not load teams/)).toBeInTheDocument();
      expect(screen.getAllByText(/Could not load (applications|incidents)/)).toHaveLength(2);
      // The changes come from their own report, which answered.
      expect(await screen.findByRole('table', { name: 'change calendar' })).toBeInTheDocument();
    });
    // The lake first read ServiceNow's changes on 26 November: team-egret's days before it are unknown, "–" and "no
    // data" as in the heatmap, not blank days without changes; the 26th's 2 implemented and the 27th's 1 still show.
    it('shows the calendar days before the changes were first read as no data', async () => {
      const [egret, heron] = f.changesReportTeam.items;
      const unknown = { planned: null, implemented: null, unsuccessful: null, failed: null, emergency: null };
      const young = { ...egret, days: egret.days.map(d => (d.day < '2026-11-26' ? { ...d, ...unknown } : d)) };
      server.use(
        answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', { ...f.changesReportTeam, items: [young, heron] }, { groupBy: 'team' }),
      );
      await renderWithApi(<RunPage />);
      const calendar = await screen.findByRole('table', { name: 'change calendar' });
      const cells = within(within(calendar).getAllByRole('row')[1]).getAllByRole('cell');
      // The unsuccessful change's day is marked "!" beside its count, not by its shade alone.
      expect(cells.map(td => td.textContent)).toEqual([...Array(28).fill('–'), '2!', '1', '']);
      expect(cells[0]).toHaveAttribute('title', '2026-10-29: no data');
      expect(cells[28]).toHaveAttribute('title', '2026-11-26: 2 planned, 2 implemented, 1 failed, 0 emergency');
    });
    it('shows the changes by team with their failure rate, and the change calendar', async () => {
      server.use(
        answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', f.changesReportTeam, { groupBy: 'team' }),
      );
      await renderWithApi(<RunPage />);
      await screen.findByRole('columnheader', { name: 'Change failure rate' });
      // team-egret: 1 unsuccessful of 5 closed with a code, 20.0 %; team-heron closed none: no rate, not 0 %.
      expect(rowsOf('Change failure rate')).toEqual([
        ['team-egret', '6', '1', '5', '1', '1', '0', '20.0%', '1'],
        ['team-heron', '0', '0', '0', '0', '0', '0', '–', '0'],
      ]);
      const calendar = screen.getByRole('table', { name: 'change calendar' });
      const [header, ...rows] = within(calendar).getAllByRole('row');
      // The corner cell and the 31 days of the period, 29 October to 28 November.
      expect(within(header).getAllByRole('columnheader')).toHaveLength(32);
      expect(rows.map(r => within(r).getByRole('rowheader').textContent)).toEqual(['team-egret', 'team-heron']);
      const egret = within(rows[0]).getAllByRole('cell');
      // 26 November is the 29th day: 2 implemented, one unsuccessful; 27 November the emergency.
      expect(egret.map(td => td.textContent).filter(Boolean)).toEqual(['2!', '1']);
      expect(egret[28]).toHaveAttribute('title', '2026-11-26: 2 planned, 2 implemented, 1 failed, 0 emergency');
      expect(egret[29]).toHaveAttribute('title', '2026-11-27: 0 planned, 1 implemented, 0 failed, 1 emergency');
      expect(within(rows[1]).getAllByRole('cell').every(td => td.textContent === '')).toBe(true);
    });
    // team-egret with a sixth change implemented, closed rolled_back (a close code the instance added): the rate
    // stays 1 unsuccessful of the 5 closed with one of ServiceNow's codes, 20.0 %, and the row says why it is not
    // 1 of the 6 implemented.
    it('shows the changes closed with a close code the instance added apart from the rate', async () => {
      const [egret, heron] = f.changesReportTeam.items;
      const rolledBack = { ...egret, implemented: 6, otherCloseCode: 1 };
      server.use(
        answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', { ...f.changesReportTeam, items: [rolledBack, heron] }, { groupBy: 'team' }),
      );
      await renderWithApi(<RunPage />);
      await screen.findByRole('columnheader', { name: 'Change failure rate' });
      expect(screen.getByRole('columnheader', { name: 'Other close code' })).toBeInTheDocument();
      expect(rowsOf('Change failure rate')[0]).toEqual(['team-egret', '6', '1', '6', '1', '1', '1', '20.0%', '1']);
    });
    // team-egret's unsuccessful change of 26 November closed rolled_back instead, a close code the lake lists as failed
    // (ROSETTA_FAILED_CLOSE_CODES): ServiceNow's unsuccessful count is 0, yet the change failed. Its day is marked as
    // failed, as the rate counts it, and the row shows it failed, still 1 of the 5 closed with a code.
    it('marks the day of a change that failed by a close code the lake lists as failed', async () => {
      const [egret, heron] = f.changesReportTeam.items;
      const days = egret.days.map(d => (d.day === '2026-11-26' ? { ...d, unsuccessful: 0, failed: 1 } : d));
      const rolledBack = { ...egret, unsuccessful: 0, failed: 1, days };
      server.use(
        answer('/kpis/incidents', f.incidentsReportApp, { groupBy: 'app' }),
        answer('/kpis/incidents', f.incidentsReportTeam, { groupBy: 'team' }),
        answer('/kpis/changes', { ...f.changesReportTeam, items: [rolledBack, heron] }, { groupBy: 'team' }),
      );
      await renderWithApi(<RunPage />);
      await screen.findByRole('columnheader', { name: 'Change failure rate' });
      expect(rowsOf('Change failure rate')[0]).toEqual(['team-egret', '6', '1', '5', '0', '1', '0', '20.0%', '1']);
      const calendar = screen.getByRole('table', { name: 'change calendar' });
      const egretDays = within(within(calendar).getAllByRole('row')[1]).getAllByRole('cell');
      expect(egretDays[28].textContent).toBe('2!');
      expect(egretDays[28]).toHaveAttribute('title', '2026-11-26: 2 planned, 2 implemented, 1 failed, 0 emergency');
    });
  });

  describe('page tabs', () => {
    // A screen reader says which view a tab shows: each tab names its panel, and the panel shown is named by its tab.
    it('ties each tab to the panel it shows', async () => {
      // The dashboard's calls fail (its error panels are enough to tell its panel), the DORA view's answers.
      server.use(
        problem('/overview', 500, 'Internal error', 'boom'),
        problem('/kpis/dora', 500, 'Internal error', 'boom'),
      );
      await renderWithApi(<MonitoringPage />);
      const tabs = screen.getAllByRole('tab');
      expect(tabs.map(tab => tab.textContent)).toEqual(['Dashboard', 'SRE / DORA', 'SLO', 'Run']);
      for (const tab of tabs) {
        const panel = document.getElementById(tab.getAttribute('aria-controls') ?? '');
        expect(panel).toHaveAttribute('role', 'tabpanel');
        expect(panel).toHaveAttribute('aria-labelledby', tab.id);
      }
      const dashboard = screen.getByRole('tabpanel', { name: 'Dashboard' });
      expect(await within(dashboard).findByText(/Could not load health figures/)).toBeInTheDocument();

      server.use(answer('/kpis/dora', f.doraApp, { groupBy: 'app' }));
      fireEvent.click(screen.getByRole('tab', { name: 'SRE / DORA' }));
      expect(screen.getByRole('tab', { name: 'SRE / DORA' })).toHaveAttribute('aria-selected', 'true');
      const dora = screen.getByRole('tabpanel', { name: 'SRE / DORA' });
      expect(await within(dora).findByText(/^2026-11-21 to 2026-11-28, bands 2023/)).toBeInTheDocument();
      // Only the panel shown is exposed: the dashboard's is hidden.
      expect(screen.getAllByRole('tabpanel')).toEqual([dora]);
    });
  });

  // An app on the old frontend system mounts the page on a route of its own, where nothing adds the header that the
  // new system's page extension gets: the page brings its own, as every plugin page of that system does.
  describe('legacy page', () => {
    it('has a header with its title above the tabs', async () => {
      server.use(answer('/overview', f.overview), answer('/kpis/dora', f.doraGroup));
      await renderWithApi(<LegacyMonitoringPage />);
      expect(screen.getByRole('heading', { level: 1, name: 'Monitoring' })).toBeInTheDocument();
      expect(screen.getAllByRole('tab').map(tab => tab.textContent)).toEqual(['Dashboard', 'SRE / DORA', 'SLO', 'Run']);
      expect(await screen.findByTestId('health-totals')).toHaveTextContent('2 green, 2 orange');
    });
  });
});
