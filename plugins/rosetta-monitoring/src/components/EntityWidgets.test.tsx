import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { API, answer, problem, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { giveChartsASize, valueTicks } from '../__testUtils__/charts';
import type { MonitoredEntity } from '../api/types';
import { GoldenSignalsCard } from './GoldenSignalsCard';
import { SloCard } from './SloCard';
import { IncidentsCard } from './IncidentsCard';
import { ChangesCard } from './ChangesCard';
import { DeploymentsCard } from './DeploymentsCard';
import { LogsLinkCard } from './LogsLinkCard';
import { EntityDoraCard } from './EntityDoraCard';
import { MonitoringTab } from './MonitoringTab';
import { WithOptions } from './WithOptions';
import { monitoringOptions } from '../options';
import { DEPLOYER_NOT_MAPPED, neverRead, SERVICENOW_NOT_MAPPED } from './common/WidgetState';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';
const emptyList = (from: any) => ({ ...from, items: [] });
/** The recorded incidents answer as status=open or status=closed gives it, on one page. */
const incidents = (status: 'open' | 'closed') => ({
  ...f.incidentsProfiles,
  status,
  items: f.incidentsProfiles.items.filter(i => i.isOpen === (status === 'open')),
});

describe('entity widgets', () => {
  registerServer();

  describe('golden signals', () => {
    /** A series of the recorded answer's kind, one value an hour from 27 November 00:00. */
    const series = (metric: string, vs: (number | null)[]) => ({
      ...f.timeseriesProfilesP95,
      metric,
      points: vs.map((v, i) => ({ t: `2026-11-27T0${i}:00:00Z`, v })),
    });

    it('shows the period maximum of p95 latency', async () => {
      server.use(answer(`${base}/timeseries`, f.timeseriesProfilesP95));
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      const max = Math.max(...f.timeseriesProfilesP95.points.map(p => p.v ?? 0));
      expect(await screen.findByTestId('signal-latency_p95')).toHaveTextContent(`${Math.round(max)} ms`);
      expect(screen.getByText('Saturation (CPU %)')).toBeInTheDocument();
    });
    // Hourly p95s of 120, 480 and 150 ms: the headline is the worst hour's 480 ms, which is not the period's p95 and
    // must not read as it; the CPU's 91.5 % (of 40.2, 91.5, 63.0) likewise.
    it('says the latency and CPU headlines are the worst hour, not a figure of the whole period', async () => {
      server.use(
        answer(`${base}/timeseries`, series('latency_p95', [120, 480, 150]), { metric: 'latency_p95' }),
        answer(`${base}/timeseries`, series('cpu', [40.2, 91.5, 63]), { metric: 'cpu' }),
        answer(`${base}/timeseries`, series('latency_p99', []), { metric: 'latency_p99' }),
        answer(`${base}/timeseries`, f.timeseriesProfilesP95),
      );
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByTestId('signal-latency_p95')).toHaveTextContent(/^480 ms \(worst hour\)$/);
      expect(screen.getByTestId('signal-cpu')).toHaveTextContent(/^91\.5% \(worst hour\)$/);
      // No hour measured: nothing to call the worst.
      expect(screen.getByTestId('signal-latency_p99')).toHaveTextContent(/^–$/);
    });
    // A quiet hour with a high error ratio does not inflate the headline: it is the period's errors over its requests.
    it("shows the period's error rate, errors over requests", async () => {
      server.use(
        answer(`${base}/timeseries`, series('error_rate', [0.5, 0.001]), { metric: 'error_rate' }),
        answer(`${base}/timeseries`, series('errors', [5, 100]), { metric: 'errors' }),
        answer(`${base}/timeseries`, series('requests', [10, 100000]), { metric: 'requests' }),
        answer(`${base}/timeseries`, f.timeseriesProfilesP95),
      );
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      // 105 errors out of 100010 requests: 0.10 %, where the mean of the hourly ratios would say 25.05 %.
      expect(await screen.findByTestId('signal-error_rate')).toHaveTextContent('0.10%');
      expect(screen.getByTestId('signal-requests')).toHaveTextContent('100,010');
    });
    // 3 errors out of 200,000 requests is 0.0015 %: two decimals would round it to 0.00 %, which reads "no errors".
    it('shows a rate too small for two decimals as under 0.01 %, never as 0.00 %', async () => {
      server.use(
        answer(`${base}/timeseries`, series('errors', [3, 0]), { metric: 'errors' }),
        answer(`${base}/timeseries`, series('requests', [100000, 100000]), { metric: 'requests' }),
        answer(`${base}/timeseries`, f.timeseriesProfilesP95),
      );
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByTestId('signal-error_rate')).toHaveTextContent('< 0.01%');
    });
    // An hour without traffic may still carry errors (Dynatrace reports them for a service with no request counted):
    // the API's error rate counts errors in hours with traffic only. 50 errors at 00:00 (no requests), 100 errors
    // out of 100,000 requests at 01:00: 100 / 100,000 = 0.10 %, not 150 / 100,000 = 0.15 %.
    it('counts the errors of hours with traffic only, as the API does', async () => {
      server.use(
        answer(`${base}/timeseries`, series('errors', [50, 100]), { metric: 'errors' }),
        answer(`${base}/timeseries`, series('requests', [null, 100000]), { metric: 'requests' }),
        answer(`${base}/timeseries`, f.timeseriesProfilesP95),
      );
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByTestId('signal-error_rate')).toHaveTextContent('0.10%');
      expect(screen.getByTestId('signal-requests')).toHaveTextContent('100,000');
    });
    // The error rate's chart reads in percent, as its headline does: hourly rates of 0.09 % and 0.18 % put ticks such as
    // "0.18%" on its axis, not "0.0018".
    it("gives the error rate chart's axis in percent", async () => {
      const restore = giveChartsASize();
      try {
        const rates = { ...f.timeseriesProfilesP95, metric: 'error_rate', points: [
          { t: '2026-11-27T00:00:00Z', v: 0.0009 },
          { t: '2026-11-27T01:00:00Z', v: 0.0018 },
        ] };
        server.use(answer(`${base}/timeseries`, rates, { metric: 'error_rate' }), answer(`${base}/timeseries`, f.timeseriesProfilesP95));
        await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
        // The charts in the order of the signals: latency p95, latency p99, then the error rate.
        await waitFor(() => expect(valueTicks(2).length).toBeGreaterThan(0));
        const ticks = valueTicks(2);
        expect(ticks.every(t => t!.endsWith('%'))).toBe(true);
        expect(ticks).toContain('0.18%');
      } finally {
        restore();
      }
    });
    // Hovering a chart names the signal, gives the hour in UTC and the value in the signal's unit: a p95 of
    // 86.3208… ms reads "86 ms" at "2026-11-27 05:00:00 UTC", not "v : 86.32087117875597" at the raw instant.
    it("names the signal, the hour and the value's unit in a chart's tooltip", async () => {
      const restore = giveChartsASize();
      const box = { x: 0, y: 0, left: 0, top: 0, width: 800, height: 120, right: 800, bottom: 120, toJSON() {} };
      const rect = jest.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockReturnValue(box as DOMRect);
      try {
        // One hour's period: the chart draws every hour of its period, this one alone.
        const p95 = {
          ...f.timeseriesProfilesP95,
          period: { name: null, start: '2026-11-27T05:00:00Z', end: '2026-11-27T06:00:00Z' },
          points: [{ t: '2026-11-27T05:00:00Z', v: 86.32087117875597 }],
        };
        server.use(answer(`${base}/timeseries`, p95));
        await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
        await waitFor(() => expect(document.querySelectorAll('.recharts-wrapper')).toHaveLength(5));
        // The charts in the order of the signals: latency p95 first.
        fireEvent.mouseMove(document.querySelectorAll('.recharts-wrapper')[0], { clientX: 400, clientY: 60 });
        await waitFor(() => expect(document.querySelector('.recharts-tooltip-wrapper')?.textContent).toBeTruthy());
        const tooltip = document.querySelector('.recharts-tooltip-wrapper')!;
        expect(tooltip.querySelector('.recharts-tooltip-label')?.textContent).toBe('2026-11-27 05:00:00 UTC');
        expect(tooltip.querySelector('.recharts-tooltip-item')?.textContent).toBe('Latency p95 : 86 ms');
      } finally {
        rect.mockRestore();
        restore();
      }
    });
    // An hour the lake holds no data for has no point (a gap, never a zero): the chart breaks its line there. Joined
    // across, the line drew four hours of an outage of the metrics (02:00 and 03:00 missing) as measured figures.
    it('breaks a chart where the series has a gap', async () => {
      const restore = giveChartsASize();
      try {
        const gappy = {
          ...f.timeseriesProfilesP95,
          period: { name: null, start: '2026-11-27T00:00:00Z', end: '2026-11-27T06:00:00Z' },
          points: [0, 1, 4, 5].map(h => ({ t: `2026-11-27T0${h}:00:00Z`, v: 80 + h })),
        };
        server.use(answer(`${base}/timeseries`, gappy));
        await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
        await waitFor(() => expect(document.querySelectorAll('.recharts-line-curve')).toHaveLength(5));
        // The charts in the order of the signals: latency p95 first. Hours 00:00-01:00 and 04:00-05:00: two segments,
        // each begun by a move (M) of the path.
        const line = document.querySelectorAll('.recharts-line-curve')[0].getAttribute('d')!;
        expect(line.match(/M/g)).toHaveLength(2);
      } finally {
        restore();
      }
    });
    it('says when the period has no points', async () => {
      server.use(answer(`${base}/timeseries`, { ...f.timeseriesProfilesP95, points: [] }));
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No golden signals in the period')).toBeInTheDocument();
    });
    it('names a missing mapping', async () => {
      server.use(problem(`${base}/timeseries`, 404, 'Unknown application', "no application 'x' in the mapping"));
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No mapping for this entity')).toBeInTheDocument();
    });
    // The empty state quotes what the API said (its problem's detail), not the raw application/problem+json body.
    it("quotes the problem's detail in the missing mapping", async () => {
      server.use(problem(`${base}/timeseries`, 404, 'Unknown application', "no application 'x' in the mapping"));
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      await screen.findByText('No mapping for this entity');
      expect(screen.getByText(/^The monitoring API has no mapping for this entity/)).toHaveTextContent(
        "The monitoring API has no mapping for this entity (no application 'x' in the mapping). Add it to the mapping table",
      );
      expect(screen.queryByText(/"status":404/)).not.toBeInTheDocument();
    });
    // An environment no entry is mapped in (a typo: prod for production) is the annotation's fault, not the mapping's.
    it('names an environment the mapping does not know', async () => {
      const unknown = "no entity is mapped in environment 'prod'; the mapping's environments are production";
      server.use(problem(`${base}/timeseries`, 404, 'Unknown environment', unknown));
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('Not a valid environment')).toBeInTheDocument();
      expect(screen.getByText(/refuses this entity's environment/)).toHaveTextContent(
        `${unknown}. Correct the entity's rosetta.io/environment annotation`,
      );
      expect(screen.queryByText('No mapping for this entity')).not.toBeInTheDocument();
    });
    it('names an entity not mapped in its environment', async () => {
      server.use(problem(`${base}/timeseries`, 404, 'Unknown entity', "'profiles' is not mapped in environment 'staging'"));
      await renderWithApi(<GoldenSignalsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No mapping for this entity')).toBeInTheDocument();
      expect(screen.getByText(/is not mapped in environment 'staging'\)/)).toBeInTheDocument();
    });
  });

  describe('SLO', () => {
    it('shows target, achieved and error budget remaining', async () => {
      // The recorded summary measured a third of its hours: judged here as over 90 % of them, so its share is shown.
      const slo = { ...f.summaryProfiles.slo!, coverage: 0.9, availabilityStatus: 'met' };
      server.use(answer(`${base}/summary`, { ...f.summaryProfiles, slo }));
      await renderWithApi(<SloCard entity={profiles} />);
      expect(await screen.findByText('99.50%')).toBeInTheDocument();
      // The recorded 0.9992261… reads 99.922 %, cut at the third decimal.
      expect(screen.getByText(/^99.922%/)).toBeInTheDocument();
      expect(screen.getByText('84.5%')).toBeInTheDocument();
      // The period the figures are achieved over, as a person reads it (the API names it last_30d).
      expect(screen.getByText(/^Achieved \(last 30 days\b/)).toBeInTheDocument();
    });
    // The summary's SLO is the last daily build's: the card says the days it covers (30 days to the 28th, 08:00 UTC,
    // the last of them the 28th), so figures a day old do not read as today's.
    it('says which days the SLO figures cover', async () => {
      const slo = { ...f.summaryProfiles.slo!, periodStart: '2026-10-29T08:00:00Z', periodEnd: '2026-11-28T08:00:00Z' };
      server.use(answer(`${base}/summary`, { ...f.summaryProfiles, slo }));
      await renderWithApi(<SloCard entity={profiles} />);
      expect(await screen.findByText('Achieved (last 30 days, 2026-10-29 to 2026-11-28)')).toBeInTheDocument();
    });
    // The recorded profiles summary measured 33 % of the period's hours, under the build's minimum coverage: the API
    // calls its availability "insufficient data", and the card must not let 99.922 % against 99.50 % read as met, nor
    // as the SLI: it says the state alone.
    it("says when the API does not judge the availability, as the SLO view does", async () => {
      server.use(answer(`${base}/summary`, f.summaryProfiles));
      await renderWithApi(<SloCard entity={profiles} />);
      const achieved = (await screen.findByText(/^Achieved/)).nextElementSibling;
      expect(achieved).toHaveTextContent(/^insufficient data$/);
    });
    // The API calls an availability "insufficient data" when too few of the period's hours had traffic (its coverage
    // under the build's minimum): the card says how many were measured, a third here, so that the state has its cause.
    it('says the share of hours measured, which an insufficient-data availability falls short on', async () => {
      server.use(answer(`${base}/summary`, f.summaryProfiles));
      await renderWithApi(<SloCard entity={profiles} />);
      const measured = (await screen.findByText('Hours measured')).nextElementSibling!;
      expect(measured).toHaveTextContent(/^33%$/);
    });
    it('says whether a judged availability met its target', async () => {
      const breached = { ...f.summaryProfiles, slo: { ...f.summaryProfiles.slo!, availability: 0.99, availabilityStatus: 'breached' } };
      server.use(answer(`${base}/summary`, breached));
      await renderWithApi(<SloCard entity={profiles} />);
      expect(await screen.findByText('99.000% · breached')).toBeInTheDocument();
    });
    // 99.9499 % against a 99.95 % target is breached; rounded to three decimals it would read 99.950 %, the target
    // itself. Availability is cut, never rounded up (as the API's own risk reasons do): 99.949 %.
    it('never rounds a breached availability up to its target', async () => {
      const slo = { ...f.summaryProfiles.slo!, availability: 0.999499, availabilityTarget: 0.9995, availabilityStatus: 'breached' };
      server.use(answer(`${base}/summary`, { ...f.summaryProfiles, slo }));
      await renderWithApi(<SloCard entity={profiles} />);
      expect(await screen.findByText('99.949% · breached')).toBeInTheDocument();
      expect(screen.getByText('99.95%')).toBeInTheDocument();
    });
    // A five-nines target, 99.999 %, rounded to two decimals would read 100.00 %, a target no service can meet.
    it('shows a target with the decimals it is set with', async () => {
      const slo = { ...f.summaryProfiles.slo!, availability: 0.999985, availabilityTarget: 0.99999, availabilityStatus: 'breached' };
      server.use(answer(`${base}/summary`, { ...f.summaryProfiles, slo }));
      await renderWithApi(<SloCard entity={profiles} />);
      expect(await screen.findByText('99.998% · breached')).toBeInTheDocument();
      expect(screen.getByText('99.999%')).toBeInTheDocument();
    });
    // 0.9996 over the period has not spent the budget (1 spends it exactly): rounded it read 1.00. A 1-hour rate of
    // 0.004 is errors in that hour: rounded it read 0.00, as if none.
    it('never rounds a burn rate up to the budget, nor a small one down to none', async () => {
      const slo = { ...f.summaryProfiles.slo!, burnRatePeriod: 0.9996, burnRate1H: 0.004 };
      server.use(answer(`${base}/summary`, { ...f.summaryProfiles, slo }));
      await renderWithApi(<SloCard entity={profiles} />);
      const rates = (await screen.findByText('Burn rate (period / 1 h)')).nextElementSibling!;
      expect(rates).toHaveTextContent(/^0\.99 \/ < 0\.01$/);
    });
    // Dynatrace read an hour behind the build: the rates are those of the hours up to 09:00, which the card says.
    it('says the hour the burn rates run up to', async () => {
      const slo = { ...f.summaryProfiles.slo!, burnWindowsEnd: '2026-11-20T09:00:00Z' };
      server.use(answer(`${base}/summary`, { ...f.summaryProfiles, slo }));
      await renderWithApi(<SloCard entity={profiles} />);
      const end = (await screen.findByText('Burn rates up to')).nextElementSibling!;
      expect(end).toHaveTextContent(/^2026-11-20 09:00:00 UTC$/);
    });
    it('says when the entity has no SLO', async () => {
      server.use(answer(`${base}/summary`, { ...f.summaryProfiles, slo: null }));
      await renderWithApi(<SloCard entity={profiles} />);
      expect(await screen.findByText('No SLO in the period')).toBeInTheDocument();
    });
    // SLOs are set per application: the API's summary of a component has no SLO, whatever its data (its slo is
    // null). The recorded billing-api component belongs to the billing application; its card names it instead of
    // saying the period has no SLO.
    it("says a component's SLO is its application's", async () => {
      server.use(answer('/components/:id/summary', f.summaryBillingApi));
      await renderWithApi(<SloCard entity={{ level: 'components', id: 'component:default/billing-api' }} />);
      expect(await screen.findByText('SLOs are set per application')).toBeInTheDocument();
      expect(screen.getByText(/belongs to the application billing/)).toBeInTheDocument();
      expect(screen.queryByText('No SLO in the period')).not.toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(problem(`${base}/summary`, 500, 'Internal error', 'boom'));
      await renderWithApi(<SloCard entity={profiles} />);
      expect(await screen.findByText(/Could not load SLO/)).toBeInTheDocument();
    });
  });

  describe('incidents', () => {
    it('counts the open incidents and lists them', async () => {
      server.use(
        answer(`${base}/incidents`, incidents('open'), { status: 'open' }),
        answer(`${base}/incidents`, incidents('closed'), { status: 'closed' }),
      );
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByTestId('open-incidents')).toHaveTextContent('2');
      // The three recorded incidents were opened on 22, 25 and 28 November, all in last_7d (21 to 28 November).
      expect(screen.getByTestId('opened-in-period')).toHaveTextContent('3');
      expect(screen.getByText('INC0010003')).toBeInTheDocument();
      expect(screen.getByText('INC0010002')).toBeInTheDocument();
    });
    /*
     * last_7d runs from 2026-11-21 08:00 to 2026-11-28 08:00 UTC. Open now: A, opened on 1 October (before the
     * period), and B, opened on 25 November. Closed, opened in the period: C on 22 November, restored, and D on
     * 23 November, cancelled. The backlog is A + B = 2; opened in the period are B + C = 2: A was opened before it
     * and a cancelled incident is not counted as opened (as in the run view). Not 2 open + 2 closed = 4.
     */
    it('counts the incidents opened in the period apart from the open backlog', async () => {
      const [recorded] = f.incidentsProfiles.items;
      const incident = (number: string, openedAt: string, isOpen: boolean, isCanceled = false) => ({
        ...recorded,
        sysId: number,
        number,
        openedAt,
        isOpen,
        isCanceled,
      });
      server.use(
        answer(
          `${base}/incidents`,
          {
            ...incidents('open'),
            items: [incident('INC-B', '2026-11-25T10:00:00Z', true), incident('INC-A', '2026-10-01T10:00:00Z', true)],
          },
          { status: 'open' },
        ),
        answer(
          `${base}/incidents`,
          {
            ...incidents('closed'),
            items: [incident('INC-D', '2026-11-23T10:00:00Z', false, true), incident('INC-C', '2026-11-22T10:00:00Z', false)],
          },
          { status: 'closed' },
        ),
      );
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByTestId('open-incidents')).toHaveTextContent(/^2$/);
      expect(screen.getByTestId('opened-in-period')).toHaveTextContent(/^2$/);
      expect(screen.getByText(/open now, however old/)).toBeInTheDocument();
      expect(screen.getByText(/opened in the period/)).toBeInTheDocument();
    });
    // An application with more open incidents than one page of the API shows them all, the oldest included.
    it('counts the open incidents of every page', async () => {
      const older = { ...f.incidentsProfiles.items[0], sysId: 'old', number: 'INC0000001', openedAt: '2026-10-01T00:00:00Z' };
      server.use(
        answer(`${base}/incidents`, { ...incidents('open'), items: [older] }, { status: 'open', cursor: 'p2' }),
        answer(`${base}/incidents`, { ...incidents('open'), page: { limit: 500, nextCursor: 'p2' } }, { status: 'open' }),
        answer(`${base}/incidents`, incidents('closed'), { status: 'closed' }),
      );
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByTestId('open-incidents')).toHaveTextContent('3');
      expect(screen.getByText('INC0000001')).toBeInTheDocument();
    });
    // 12 closed incidents opened in the period: the history shows the latest 10 and its title says so, as the recent
    // changes do, rather than a "Recent history" that reads as the whole period.
    it('says the history shows only the latest 10 closed incidents of the period', async () => {
      const [closed] = incidents('closed').items;
      const twelve = Array.from({ length: 12 }, (_, i) => ({ ...closed, sysId: `s${i}`, number: `INC00200${10 + i}` }));
      server.use(
        answer(`${base}/incidents`, emptyList(incidents('open')), { status: 'open' }),
        answer(`${base}/incidents`, { ...incidents('closed'), items: twelve }, { status: 'closed' }),
      );
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('Recent history (latest 10 of 12)')).toBeInTheDocument();
      expect(screen.getAllByText(/^INC00200\d\d$/)).toHaveLength(10);
    });
    /*
     * INC-X names the change that covered deployment 2: linked at 0.95, which counts. INC-Y opened within hours of
     * deployment 1 on its component: linked at 0.50, kept as evidence, not a change failure. INC-Z has no link.
     */
    it('names the deployment each incident is linked to, by which rule, and whether the link counts', async () => {
      const [recorded] = f.incidentsProfiles.items;
      const incident = (number: string, link: object) => ({
        ...recorded,
        sysId: number,
        number,
        isOpen: true,
        linkedDeploymentFull: null,
        linkRuleFull: null,
        linkConfidenceFull: null,
        linkCountsAsChangeFailureFull: null,
        url: null,
        ...link,
      });
      const open = [
        incident('INC-X', { linkedDeploymentFull: 'argocd:p:2', linkRuleFull: 'change_caused_by', linkConfidenceFull: 0.95, linkCountsAsChangeFailureFull: true }),
        incident('INC-Y', { linkedDeploymentFull: 'argocd:p:1', linkRuleFull: 'same_component_window', linkConfidenceFull: 0.5, linkCountsAsChangeFailureFull: false }),
        incident('INC-Z', {}),
      ];
      server.use(
        answer(`${base}/incidents`, { ...incidents('open'), items: open }, { status: 'open' }),
        answer(`${base}/incidents`, emptyList(incidents('closed')), { status: 'closed' }),
      );
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      const linkOf = async (number: string) => {
        const cells = (await screen.findByRole('cell', { name: number })).closest('tr')!.querySelectorAll('td');
        return cells[cells.length - 1].textContent;
      };
      expect(await linkOf('INC-X')).toBe('argocd:p:2 (the change it names, 0.95)');
      expect(await linkOf('INC-Y')).toBe('argocd:p:1 (same component, within hours, 0.50; evidence only, not a change failure)');
      expect(await linkOf('INC-Z')).toBe('–');
    });
    // INC-A breached its task SLA, INC-B has one still met, INC-C has none (the API's null): "no SLA", never "ok".
    it('says an incident without a task SLA has none, not that it met one', async () => {
      const [recorded] = f.incidentsProfiles.items;
      const open = [
        { ...recorded, sysId: 'a', number: 'INC-A', isOpen: true, slaBreached: true, url: null },
        { ...recorded, sysId: 'b', number: 'INC-B', isOpen: true, slaBreached: false, url: null },
        { ...recorded, sysId: 'c', number: 'INC-C', isOpen: true, slaBreached: null, url: null },
      ];
      server.use(
        answer(`${base}/incidents`, { ...incidents('open'), items: open }, { status: 'open' }),
        answer(`${base}/incidents`, emptyList(incidents('closed')), { status: 'closed' }),
      );
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      const slaOf = async (number: string) => {
        const row = (await screen.findByRole('cell', { name: number })).closest('tr')!;
        const headers = Array.from(row.closest('table')!.querySelectorAll('th')).map(th => th.textContent);
        return row.querySelectorAll('td')[headers.indexOf('SLA')].textContent;
      };
      expect(await slaOf('INC-A')).toBe('breached');
      expect(await slaOf('INC-B')).toBe('ok');
      expect(await slaOf('INC-C')).toBe('no SLA');
    });
    // A screen reader announces each cell with its column's header: the priority column says "Priority", not "P".
    it("names the priority column's header in full", async () => {
      server.use(
        answer(`${base}/incidents`, incidents('open'), { status: 'open' }),
        answer(`${base}/incidents`, incidents('closed'), { status: 'closed' }),
      );
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      await screen.findByTestId('open-incidents');
      const headers = screen.getAllByRole('columnheader').map(h => h.textContent);
      expect(headers.filter(h => h === 'Priority')).toHaveLength(2);
      expect(headers).not.toContain('P');
    });
    it('says when there is no incident in the period', async () => {
      server.use(answer(`${base}/incidents`, emptyList(f.incidentsProfiles)));
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No incidents in the period')).toBeInTheDocument();
    });
    it('says incidents are unknown, not none, for an entity tied to no ServiceNow CI', async () => {
      server.use(answer(`${base}/incidents`, { ...emptyList(f.incidentsProfiles), state: 'not mapped' }));
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No source of incidents mapped')).toBeInTheDocument();
      expect(screen.getByText(SERVICENOW_NOT_MAPPED)).toBeInTheDocument();
      expect(screen.queryByText('No incidents in the period')).not.toBeInTheDocument();
    });
    // No ServiceNow ingest ever ran: the list is empty because nobody looked, which is neither "none" nor "not mapped".
    it('says incidents are unknown, not none, when the lake never read them', async () => {
      server.use(answer(`${base}/incidents`, { ...emptyList(f.incidentsProfiles), state: 'not read' }));
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No incidents read yet')).toBeInTheDocument();
      expect(screen.getByText(neverRead("ServiceNow's incidents"))).toBeInTheDocument();
      expect(screen.queryByText('No incidents in the period')).not.toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(problem(`${base}/incidents`, 502, 'Bad gateway', 'upstream'));
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText(/Could not load incidents/)).toBeInTheDocument();
    });
    it('marks figures older than the staleness threshold', async () => {
      const old = { ...f.incidentsProfiles, freshness: { ...f.incidentsProfiles.freshness, lagSeconds: 36000 } };
      server.use(answer(`${base}/incidents`, old));
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText(/Stale: figures are 10.0 h old/)).toBeInTheDocument();
    });
    // With hourly builds and staleAfterSeconds at 30 minutes, a 2,700 s lag is 2700 / 60 = 45 minutes, not "0.8 h".
    it('gives a lag under an hour in minutes', async () => {
      const old = { ...f.incidentsProfiles, freshness: { ...f.incidentsProfiles.freshness, lagSeconds: 2700 } };
      server.use(answer(`${base}/incidents`, old));
      await renderWithApi(
        <WithOptions options={monitoringOptions({ thresholds: { staleAfterSeconds: 1800 } })}>
          <IncidentsCard entity={profiles} period="last_7d" />
        </WithOptions>,
      );
      expect(await screen.findByText(/Stale: figures are 45 min old/)).toBeInTheDocument();
    });
    // "No incidents in the period" from a build 10 hours old may be wrong by now: the card says so.
    it('marks stale figures even when the period has no incident', async () => {
      const old = { ...emptyList(f.incidentsProfiles), freshness: { ...f.incidentsProfiles.freshness, lagSeconds: 36000 } };
      server.use(answer(`${base}/incidents`, old));
      await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No incidents in the period')).toBeInTheDocument();
      expect(screen.getByText(/Stale: figures are 10.0 h old/)).toBeInTheDocument();
    });
  });

  describe('changes', () => {
    it('lists upcoming and recent changes', async () => {
      server.use(
        answer(`${base}/changes`, f.changesUpcomingProfiles, { status: 'upcoming' }),
        answer(`${base}/changes`, f.changesRecentProfiles, { status: 'recent' }),
      );
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('Upcoming (1)')).toBeInTheDocument();
      expect(screen.getByText(f.changesUpcomingProfiles.items[0].number!)).toBeInTheDocument();
    });
    // The API lists changes latest first; the next change to come (1 December) heads the upcoming list, the one
    // planned for 15 December comes after it.
    // The recorded CHG0030015, a normal change, covered deployment 276 of profiles-gateway; CHG0030013, a standard
    // change closed unsuccessful, covered none.
    it("shows each change's type and the deployment it covered", async () => {
      server.use(
        answer(`${base}/changes`, emptyList(f.changesUpcomingProfiles), { status: 'upcoming' }),
        answer(`${base}/changes`, f.changesRecentProfiles, { status: 'recent' }),
      );
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      const cells = async (number: string) =>
        Array.from((await screen.findByRole('cell', { name: new RegExp(`^${number}\\b`) })).closest('tr')!.querySelectorAll('td')).map(td => td.textContent);
      const covered = await cells('CHG0030015');
      expect([covered[1], covered[covered.length - 1]]).toEqual(['normal', 'argocd:profiles-gateway-prod:276']);
      const failed = await cells('CHG0030013');
      expect([failed[1], failed[failed.length - 2], failed[failed.length - 1]]).toEqual(['standard', 'failed', '–']);
    });
    // CHG0030013 as the API answers it while in Review with the close code unsuccessful: not closed, not failed, and
    // not counted in the change failure rate until it closes.
    it('says a change not closed yet is not failed, beside its close code', async () => {
      const [, , recorded] = f.changesRecentProfiles.items;
      const inReview = { ...recorded, state: 0, stateLabel: 'Review', isClosed: false, isFailed: false };
      server.use(
        answer(`${base}/changes`, emptyList(f.changesUpcomingProfiles), { status: 'upcoming' }),
        answer(`${base}/changes`, { ...f.changesRecentProfiles, items: [inReview] }, { status: 'recent' }),
      );
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      const row = (await screen.findByRole('cell', { name: /^CHG0030013\b/ })).closest('tr')!;
      const cells = Array.from(row.querySelectorAll('td'), td => td.textContent);
      expect([cells[2], cells[cells.length - 2]]).toEqual(['Review', 'not closed (close code unsuccessful)']);
    });
    // Recorded closed changes as the API answers them closed with rolled_back, a close code the instance added (not
    // failed: the change failure rate leaves it out), and canceled (state 4) with the close code successful: canceled
    // is a final state of its own, and the change is neither closed nor open.
    it('shows a change closed with a close code the instance added with its code, and a canceled change as canceled', async () => {
      const [closed, canceled] = f.changesRecentProfiles.items;
      const rolledBack = { ...closed, closeCode: 'rolled_back' };
      const canceledWithCode = { ...canceled, state: 4, stateLabel: 'Canceled', isClosed: false, isFailed: false };
      server.use(
        answer(`${base}/changes`, emptyList(f.changesUpcomingProfiles), { status: 'upcoming' }),
        answer(`${base}/changes`, { ...f.changesRecentProfiles, items: [rolledBack, canceledWithCode] }, { status: 'recent' }),
      );
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      const stateAndOutcome = async (number: string) => {
        const row = (await screen.findByRole('cell', { name: new RegExp(`^${number}\\b`) })).closest('tr')!;
        const cells = Array.from(row.querySelectorAll('td'), td => td.textContent);
        return [cells[2], cells[cells.length - 2]];
      };
      expect(await stateAndOutcome(closed.number!)).toEqual(['Closed', 'rolled_back']);
      expect(await stateAndOutcome(canceled.number!)).toEqual(['Canceled', 'canceled (close code successful)']);
    });
    // The client reads 20 pages at most: a period holding more changes says that its list is cut, and advises what
    // the tab offers, a shorter period, not a grouping the card has not.
    it('says when the recent changes have more pages than it read, advising a shorter period', async () => {
      const [recorded] = f.changesRecentProfiles.items;
      // Each page names the next, p1 then p2 and on, past the 20 pages the card reads.
      const page = (n: number) => ({
        ...f.changesRecentProfiles,
        items: [{ ...recorded, sysId: `sys-${n}`, number: `CHG00400${String(n).padStart(2, '0')}` }],
        page: { limit: 500, nextCursor: `p${n + 1}` },
      });
      server.use(
        ...Array.from({ length: 20 }, (_, n) => answer(`${base}/changes`, page(n + 1), { status: 'recent', cursor: `p${n + 1}` })),
        answer(`${base}/changes`, emptyList(f.changesUpcomingProfiles), { status: 'upcoming' }),
        answer(`${base}/changes`, page(0), { status: 'recent' }),
      );
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('Info: Only the first 20 rows are shown: choose a shorter period to see the rest')).toBeInTheDocument();
      expect(screen.queryByText(/grouping/)).not.toBeInTheDocument();
    });
    it('lists the upcoming changes soonest first', async () => {
      const [next] = f.changesUpcomingProfiles.items;
      const later = { ...next, sysId: 'later', number: 'CHG0039999', plannedStart: '2026-12-15T01:00:00Z', changeStart: '2026-12-15T01:00:00Z' };
      server.use(
        answer(`${base}/changes`, { ...f.changesUpcomingProfiles, items: [later, next] }, { status: 'upcoming' }),
        answer(`${base}/changes`, f.changesRecentProfiles, { status: 'recent' }),
      );
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      await screen.findByText('Upcoming (2)');
      const upcoming = [next.number, 'CHG0039999'];
      // A number cell holds the link to the change's form: its text begins with the number.
      const shown = screen
        .getAllByRole('cell')
        .map(cell => upcoming.find(number => cell.textContent!.startsWith(number!)))
        .filter(Boolean);
      expect(shown).toEqual([next.number, 'CHG0039999']);
    });
    // 12 recent changes in the period: the table shows the latest 10 and its title says so, not "Recent (12)" over 10 rows.
    it('says the recent table shows only the latest 10 of the period', async () => {
      const [first] = f.changesRecentProfiles.items;
      const twelve = Array.from({ length: 12 }, (_, i) => ({ ...first, sysId: `s${i}`, number: `CHG00400${10 + i}` }));
      server.use(
        answer(`${base}/changes`, emptyList(f.changesUpcomingProfiles), { status: 'upcoming' }),
        answer(`${base}/changes`, { ...f.changesRecentProfiles, items: twelve }, { status: 'recent' }),
      );
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('Recent (latest 10 of 12)')).toBeInTheDocument();
      expect(screen.getAllByText(/^CHG00400\d\d$/)).toHaveLength(10);
    });
    it('says when there is no change', async () => {
      server.use(answer(`${base}/changes`, emptyList(f.changesRecentProfiles)));
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No changes in the period')).toBeInTheDocument();
    });
    it('says changes are unknown, not none, for an entity tied to no ServiceNow CI', async () => {
      server.use(answer(`${base}/changes`, { ...emptyList(f.changesRecentProfiles), state: 'not mapped' }));
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No source of changes mapped')).toBeInTheDocument();
      expect(screen.queryByText('No changes in the period')).not.toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(problem(`${base}/changes`, 500, 'Internal error', 'boom'));
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      // The panel's title says what the API said went wrong.
      expect(await screen.findByText(/Could not load changes/)).toHaveTextContent(/^Error: Could not load changes: boom$/);
    });
    // A new deployment before its first build answers 503 "No data yet": nothing failed, so the card says the
    // figures are to come, without an error panel.
    it('says the figures are to come before the first build, without an error panel', async () => {
      server.use(problem(`${base}/changes`, 503, 'No data yet', 'the mart has not been built yet: run a build first'));
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No data yet')).toBeInTheDocument();
      expect(screen.getByText(/the mart has not been built yet: run a build first/)).toBeInTheDocument();
      expect(screen.queryByText(/Could not load changes/)).not.toBeInTheDocument();
    });
    // The API's gateway (an API Gateway HTTP API) answers its own errors as application/json {"message": ...}, e.g.
    // 503 when the function timed out: the panel says "Service Unavailable", not the raw JSON body.
    it("quotes the gateway's message when the gateway fails", async () => {
      server.use(
        http.get(`${API}/applications/:id/changes`, () =>
          HttpResponse.json({ message: 'Service Unavailable' }, { status: 503 }),
        ),
      );
      await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText(/Could not load changes/)).toHaveTextContent(
        /^Error: Could not load changes: Service Unavailable$/,
      );
    });
  });

  describe('deployments', () => {
    it('shows ArgoCD sync and health, the last pipeline and the period count', async () => {
      server.use(
        answer(`${base}/deployments`, f.deploymentsLiveProfiles, { mode: 'live' }),
        answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByTestId('deployments-count')).toHaveTextContent(
        String(f.deploymentsHistoryProfiles.items.length),
      );
      for (const live of f.deploymentsLiveProfiles.live!) {
        expect(screen.getAllByText(live.componentId).length).toBeGreaterThan(0);
        const argo = `${live.syncStatus ?? 'unknown'} / ${live.healthStatus ?? 'unknown'}`;
        expect(screen.getAllByText(argo).length).toBeGreaterThan(0);
      }
      const pipeline = screen.getAllByRole('link').find(a => a.getAttribute('href') === f.deploymentsLiveProfiles.live![0].lastPipelineUrl);
      expect(pipeline).toBeDefined();
    });
    // A component the mapping gives no ArgoCD application (deployed by a GitLab job, say) has no sync nor health
    // status: its cell says so, not an orange "unknown / unknown" as if ArgoCD had lost track of it.
    it('says a component has no ArgoCD application mapped, without a warning colour', async () => {
      const [first] = f.deploymentsLiveProfiles.live!;
      const withoutArgo = {
        ...first,
        componentId: 'profiles-db',
        argocdApp: null,
        syncStatus: null,
        healthStatus: null,
        operationPhase: null,
        statusObservedAt: null,
      };
      server.use(
        answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live: [first, withoutArgo] }, { mode: 'live' }),
        answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      const row = (await screen.findByText('profiles-db')).closest('tr')!;
      const argo = within(row).getAllByRole('cell')[1];
      expect(argo).toHaveTextContent(/^no ArgoCD application mapped$/);
      expect(argo.querySelector('[data-status="orange"]')).toBeNull();
      expect(screen.queryByText('unknown / unknown')).not.toBeInTheDocument();
    });
    // profiles-api-prod is in ArgoCD's own namespace (the mapping names none): its page is /applications/<name>.
    // The same application of the namespace team-b is at /applications/team-b/<name>, where ArgoCD's UI shows it;
    // by its name alone the UI would open the one of its own namespace.
    it("links each application to its page in ArgoCD's UI, in its namespace", async () => {
      const [first] = f.deploymentsLiveProfiles.live!;
      const elsewhere = { ...first, componentId: 'profiles-team-b', argocdAppNamespace: 'team-b' };
      server.use(
        answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live: [first, elsewhere] }, { mode: 'live' }),
        answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
      );
      await renderWithApi(
        <WithOptions options={monitoringOptions({ argocdBaseUrl: 'https://argocd.example.org/' })}>
          <DeploymentsCard entity={profiles} period="last_7d" />
        </WithOptions>,
      );
      const linkIn = async (component: string) =>
        within((await screen.findByText(component)).closest('tr')!).getByText(first.argocdApp!).closest('a');
      expect(await linkIn(first.componentId)).toHaveAttribute(
        'href',
        `https://argocd.example.org/applications/${first.argocdApp}`,
      );
      expect(await linkIn('profiles-team-b')).toHaveAttribute(
        'href',
        `https://argocd.example.org/applications/team-b/${first.argocdApp}`,
      );
    });
    it('shows that a live answer is stale', async () => {
      const stale = {
        ...f.deploymentsLiveProfiles,
        live: f.deploymentsLiveProfiles.live!.map(l => ({ ...l, stale: true, staleReason: 'ArgoCD timed out' })),
      };
      server.use(
        answer(`${base}/deployments`, stale, { mode: 'live' }),
        answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText(/Stale live answer/)).toHaveTextContent('ArgoCD timed out');
    });
    /*
     * ArgoCD and GitLab are down: the API gives profiles-api's last status read, Synced / Healthy at 09:45 on the
     * 20th, and its last pipeline read, failed on main, updated at 10:05:51 on the 27th. Each says how old it is.
     */
    it('shows how old a stale status and pipeline are', async () => {
      const [first] = f.deploymentsLiveProfiles.live!;
      const stale = {
        ...f.deploymentsLiveProfiles,
        live: [
          {
            ...first,
            stale: true,
            staleReason: 'argocd: no answer; gitlab: no answer',
            sources: {
              argocd: { state: 'fallback', fetchedAt: null, reason: 'no answer' },
              gitlab: { state: 'fallback', fetchedAt: null, reason: 'no answer' },
            },
            statusObservedAt: '2026-11-20T09:45:00Z',
          },
        ],
      };
      server.use(
        answer(`${base}/deployments`, stale, { mode: 'live' }),
        answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText(/read 2026-11-20 09:45:00 UTC/)).toBeInTheDocument();
      expect(screen.getByText(/updated 2026-11-27 10:05:51 UTC/)).toBeInTheDocument();
    });
    /*
     * A two-source ArgoCD application runs one revision per source, which the API joins with a comma: its commit
     * 80f5551d89f04bb712de097765aced857da13262 and its chart's tag v1.4.2. The commit reads by its first 8 characters,
     * 80f5551d, the tag as it is: "80f5551d, v1.4.2", not only the commit's first 8 characters. A single-source
     * application deployed from the tag release-2026.11 shows the whole tag, not "release-".
     */
    it('shows every revision a multi-source application runs, and tags whole', async () => {
      const [api, gateway] = f.deploymentsLiveProfiles.live!;
      const live = {
        ...f.deploymentsLiveProfiles,
        live: [
          { ...api, revision: '80f5551d89f04bb712de097765aced857da13262,v1.4.2' },
          { ...gateway, revision: 'release-2026.11' },
        ],
      };
      server.use(
        answer(`${base}/deployments`, live, { mode: 'live' }),
        answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByRole('cell', { name: '80f5551d, v1.4.2' })).toBeInTheDocument();
      expect(screen.getByRole('cell', { name: 'release-2026.11' })).toBeInTheDocument();
    });
    /*
     * Four deployments, latest first. A failed and was recovered by the next success at 10:00 on the 27th. B was
     * rolled back and caused INC1, which is not restored yet: no recovery. C is covered by a change closed
     * unsuccessful. D is itself a rollback, which fails nothing: no change failure.
     */
    it('lists the deployments of the period with why each is a change failure', async () => {
      const [recorded] = f.deploymentsHistoryProfiles.items!;
      const deployment = (key: string, finishedAt: string, overrides: object) => ({
        ...recorded,
        deploymentKey: key,
        finishedAt,
        isRollback: false,
        rolledBack: false,
        changeUnsuccessful: false,
        changeNumbers: null,
        incidentNumbersFull: null,
        isChangeFailureFull: false,
        recoveredAtFull: null,
        ...overrides,
      });
      const history = {
        ...f.deploymentsHistoryProfiles,
        items: [
          deployment('a', '2026-11-27T09:00:00Z', { status: 'failed', isChangeFailureFull: true, recoveredAtFull: '2026-11-27T10:00:00Z' }),
          deployment('b', '2026-11-26T09:00:00Z', { rolledBack: true, incidentNumbersFull: ['INC1'], isChangeFailureFull: true }),
          deployment('c', '2026-11-25T09:00:00Z', { changeUnsuccessful: true, changeNumbers: ['CHG9'], isChangeFailureFull: true, recoveredAtFull: '2026-11-25T12:00:00Z' }),
          deployment('d', '2026-11-24T09:00:00Z', { isRollback: true }),
        ],
      };
      server.use(
        answer(`${base}/deployments`, f.deploymentsLiveProfiles, { mode: 'live' }),
        answer(`${base}/deployments`, history, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      const row = async (finished: string) => (await screen.findByRole('cell', { name: finished })).closest('tr')!;
      const cells = (tr: Element) => Array.from(tr.querySelectorAll('td')).map(td => td.textContent);
      expect(cells(await row('2026-11-27 09:00:00 UTC'))).toEqual(
        expect.arrayContaining(['failed', '2026-11-27 10:00:00 UTC']),
      );
      expect(cells(await row('2026-11-26 09:00:00 UTC'))).toEqual(
        expect.arrayContaining(['rolled back; caused INC1', 'not yet']),
      );
      expect(cells(await row('2026-11-25 09:00:00 UTC'))).toEqual(
        expect.arrayContaining(['change failed', 'CHG9']),
      );
      expect(cells(await row('2026-11-24 09:00:00 UTC'))).toEqual(expect.arrayContaining(['succeeded, rollback', 'no']));
      expect(screen.getByText('History')).toBeInTheDocument();
    });
    // 12 deployments in the period: the history shows the latest 10 and its title says so, as the incidents do.
    it('says the history shows only the latest 10 deployments of the period', async () => {
      const [recorded] = f.deploymentsHistoryProfiles.items!;
      const twelve = Array.from({ length: 12 }, (_, i) => ({ ...recorded, deploymentKey: `k${i}`, finishedAt: `2026-11-2${i % 8}T0${i % 10}:00:00Z` }));
      server.use(
        answer(`${base}/deployments`, f.deploymentsLiveProfiles, { mode: 'live' }),
        answer(`${base}/deployments`, { ...f.deploymentsHistoryProfiles, items: twelve }, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('History (latest 10 of 12)')).toBeInTheDocument();
      expect(screen.getByTestId('deployments-count')).toHaveTextContent(/^12$/);
    });
    // An application without components deploys as itself: its deployments have no componentId (null in the API), and
    // a status may be null too. The line under the count named neither ("last:  at …"); it names the application.
    it("names the application in the last deployment when it has no component, and '–' for no status", async () => {
      const [recorded] = f.deploymentsHistoryProfiles.items!;
      const own = { ...recorded, componentId: null, status: null, finishedAt: '2026-11-27T09:00:00Z' };
      server.use(
        answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live: [] }, { mode: 'live' }),
        answer(`${base}/deployments`, { ...f.deploymentsHistoryProfiles, items: [own] }, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      const line = (await screen.findByTestId('deployments-count')).closest('p')!;
      expect(line).toHaveTextContent(/^1 deployment in the period; last: profiles – at 2026-11-27 09:00:00 UTC$/);
    });
    it('says when there is no deployment', async () => {
      server.use(answer(`${base}/deployments`, { ...f.deploymentsHistoryProfiles, items: [], live: [] }));
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No deployments in the period')).toBeInTheDocument();
    });
    it('says deployments are unknown, not none, for an entity tied to no ArgoCD application nor GitLab project', async () => {
      // As the API answers it: a live row per component, each source "not mapped", and a history not mapped.
      const notMapped = { state: 'not mapped', fetchedAt: null, reason: null };
      const [row] = f.deploymentsLiveProfiles.live!;
      const unmapped = {
        ...row,
        sources: { argocd: notMapped, gitlab: notMapped },
        ...{ argocdApp: null, syncStatus: null, healthStatus: null, statusObservedAt: null, revision: null },
        ...{ lastDeployedAt: null, operationPhase: null, gitlabProjectId: null, lastPipelineStatus: null },
        ...{ lastPipelineRef: null, lastPipelineAt: null, lastPipelineUrl: null, fetchedAt: null },
      };
      const history = { ...f.deploymentsHistoryProfiles, state: 'not mapped', items: [], readUntil: null };
      server.use(
        answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, state: 'not mapped', live: [unmapped] }, {
          mode: 'live',
        }),
        answer(`${base}/deployments`, history, { mode: 'history' }),
      );
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No source of deployments mapped')).toBeInTheDocument();
      expect(screen.getByText(DEPLOYER_NOT_MAPPED)).toBeInTheDocument();
      expect(screen.queryByText('No deployments in the period')).not.toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(problem(`${base}/deployments`, 500, 'Internal error', 'boom'));
      await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText(/Could not load deployments/)).toBeInTheDocument();
    });
  });

  describe('logs link', () => {
    it('links to Kibana pre-filtered on the application', async () => {
      server.use(answer(`${base}/logs/link`, f.logsProfiles));
      await renderWithApi(<LogsLinkCard entity={profiles} period="last_7d" />);
      const link = await screen.findByText('Open the logs in Kibana');
      expect(link.closest('a')).toHaveAttribute('href', f.logsProfiles.url);
      expect(screen.getByText(f.logsProfiles.query)).toBeInTheDocument();
    });
    // The API builds its link on its own Kibana URL, which may have a base path (Kibana served under /kibana):
    // `{kibana}[/s/{space}]/app/discover#...`. kibanaBaseUrl takes that base's place, the space and Discover kept:
    // https://kibana.example.org/s/payments/app/discover#..., not .../kibana/s/payments/... on the public host.
    it("rebases the link on kibanaBaseUrl in place of the API's Kibana URL, base path included", async () => {
      const hash = '#/?_g=(time:(from:now-7d,to:now))';
      const link = { ...f.logsProfiles, url: `http://kibana.internal:5601/kibana/s/payments/app/discover${hash}` };
      server.use(answer(`${base}/logs/link`, link));
      await renderWithApi(
        <WithOptions options={monitoringOptions({ kibanaBaseUrl: 'https://kibana.example.org/' })}>
          <LogsLinkCard entity={profiles} period="last_7d" />
        </WithOptions>,
      );
      const anchor = (await screen.findByText('Open the logs in Kibana')).closest('a');
      expect(anchor).toHaveAttribute('href', `https://kibana.example.org/s/payments/app/discover${hash}`);
    });
    it('says when Kibana is not configured', async () => {
      server.use(problem(`${base}/logs/link`, 503, 'Kibana not configured', 'no Kibana URL is configured'));
      await renderWithApi(<LogsLinkCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('Source not configured')).toBeInTheDocument();
      expect(screen.getByText('The monitoring API cannot answer: no Kibana URL is configured')).toBeInTheDocument();
    });
    // The entity is mapped (every other widget shows its figures); only its log index is missing from the mapping.
    it('says when the mapping names no log index, without calling the entity unmapped', async () => {
      server.use(problem(`${base}/logs/link`, 404, 'No log index mapped', "'profiles' has no elisa.index in the mapping"));
      await renderWithApi(<LogsLinkCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No log index mapped')).toBeInTheDocument();
      expect(screen.getByText(/'profiles' has no elisa.index in the mapping/)).toHaveTextContent(/rosetta.io\/elisa-index/);
      expect(screen.queryByText('No mapping for this entity')).not.toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(problem(`${base}/logs/link`, 500, 'Internal error', 'boom'));
      await renderWithApi(<LogsLinkCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText(/Could not load logs link/)).toBeInTheDocument();
    });
  });

  describe('DORA', () => {
    it("shows the application's four keys with their level", async () => {
      server.use(answer(`${base}/summary`, f.summaryProfiles), answer('/kpis/dora', f.doraApp));
      await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
      const row = f.doraApp.items.find(r => r.id === 'profiles')!;
      expect(await screen.findByText('profiles')).toBeInTheDocument();
      expect(screen.getByText(new RegExp(`· ${row.deploymentFrequencyLevel}`))).toBeInTheDocument();
      expect(screen.queryByText('billing')).not.toBeInTheDocument();
    });
    // The card asks for its application's row alone: an estate of any size is one small answer, never pages of it.
    it('asks the report for its application alone', async () => {
      const row = f.doraApp.items.find(r => r.id === 'profiles')!;
      server.use(
        answer(`${base}/summary`, f.summaryProfiles),
        answer('/kpis/dora', { ...f.doraApp, items: [row] }, { groupBy: 'app', app: 'profiles' }),
        problem('/kpis/dora', 400, 'Unexpected request', 'the card asked for more than its application'),
      );
      await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('profiles')).toBeInTheDocument();
      expect(screen.queryByText(/Unexpected request/)).not.toBeInTheDocument();
    });
    // DORA is not computed over 24 hours: with the tab on "Last 24 hours" the card shows last_7d's figures, and says
    // so. last_7d ends at 2026-11-28 08:00 UTC and starts 7 days before, so its days are 21 to 28 November.
    it('says which days its figures cover when the tab period has no DORA', async () => {
      server.use(
        answer(`${base}/summary`, f.summaryProfiles),
        answer('/kpis/dora', f.doraApp, { period: 'last_7d' }),
      );
      await renderWithApi(<EntityDoraCard entity={profiles} period="last_24h" />);
      expect(await screen.findByText('profiles')).toBeInTheDocument();
      expect(screen.getByText(/^DORA over the last 7 days: 2026-11-21 to 2026-11-28/)).toBeInTheDocument();
    });
    it('says when the application has no DORA row', async () => {
      server.use(answer(`${base}/summary`, f.summaryProfiles), answer('/kpis/dora', emptyList(f.doraApp)));
      await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText('No DORA figures in the period')).toBeInTheDocument();
    });
    it('shows an error panel when the API fails', async () => {
      server.use(answer(`${base}/summary`, f.summaryProfiles), problem('/kpis/dora', 500, 'Internal error', 'boom'));
      await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
      expect(await screen.findByText(/Could not load DORA figures/)).toBeInTheDocument();
    });
  });

  describe('monitoring tab', () => {
    // "Open the logs in Kibana" opens Discover on the period the tab shows, and follows the period picker.
    it("links to Kibana over the tab's period", async () => {
      const ranges: (string | null)[] = [];
      server.use(
        http.get(`${API}/applications/:id/logs/link`, ({ request }) => {
          ranges.push(new URL(request.url).searchParams.get('timeRange'));
          return HttpResponse.json(f.logsProfiles);
        }),
        http.get(`${API}/*`, () => HttpResponse.json({ title: 'Internal error', status: 500, detail: 'boom' }, { status: 500 })),
      );
      await renderWithApi(<MonitoringTab />, profilesSystem);
      await screen.findByText('Open the logs in Kibana');
      expect(ranges).toEqual(['last_7d']);
      fireEvent.mouseDown(screen.getByRole('button', { name: /Last 7 days/ }));
      fireEvent.click(await screen.findByRole('option', { name: 'Last 30 days' }));
      await waitFor(() => expect(ranges).toEqual(['last_7d', 'last_30d']));
    });

    /** Answers the summary, fails every other call, and records the URL of every call. */
    function recordCalls(): URL[] {
      const calls: URL[] = [];
      server.use(
        http.get(`${API}/*`, ({ request }) => {
          const url = new URL(request.url);
          calls.push(url);
          if (url.pathname.endsWith('/summary')) return HttpResponse.json(f.summaryProfiles);
          return HttpResponse.json({ title: 'Internal error', status: 500, detail: 'boom' }, { status: 500 });
        }),
      );
      return calls;
    }

    // On a staging entity every widget of the tab shows its staging figures (the DORA row too), none asks for production.
    it("asks for the entity's environment on every call", async () => {
      const calls = recordCalls();
      const staging = {
        ...profilesSystem,
        metadata: { ...profilesSystem.metadata, annotations: { 'rosetta.io/environment': 'staging' } },
      };
      await renderWithApi(<MonitoringTab />, staging);
      await waitFor(() => expect(calls.some(url => url.pathname.endsWith('/kpis/dora'))).toBe(true));
      await screen.findByText(/Could not load DORA figures/);
      const routes = calls.map(url => url.pathname.replace(/^.*\/monitoring/, ''));
      expect(routes).toEqual(expect.arrayContaining([
        expect.stringMatching(/\/summary$/),
        expect.stringMatching(/\/timeseries$/),
        expect.stringMatching(/\/incidents$/),
        expect.stringMatching(/\/changes$/),
        expect.stringMatching(/\/deployments$/),
        expect.stringMatching(/\/logs\/link$/),
        '/kpis/dora',
      ]));
      for (const url of calls) {
        expect(`${url.pathname} environment=${url.searchParams.get('environment')}`).toBe(`${url.pathname} environment=staging`);
      }
    });
  });
});
