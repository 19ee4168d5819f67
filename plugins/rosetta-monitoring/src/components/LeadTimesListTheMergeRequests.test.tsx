import { fireEvent, screen, within } from '@testing-library/react';
import {
  answer,
  askedOf,
  profilesSystem,
  registerServer,
  renderWithApi,
  server,
} from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { LeadTime, LeadTimeList, MonitoredEntity } from '../api/types';
import { EntityDoraCard } from './EntityDoraCard';
import { MonitoringTab } from './MonitoringTab';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const billingApi: MonitoredEntity = { level: 'components', id: 'component:default/billing-api' };

/*
 * The merge requests behind profiles' lead time over last_7d (21 to 28 November), made by hand, newest merge first:
 *   !318 on profiles-api, merged 26 Nov 14:10, shipped 27 Nov 13:40 through the deployment GitLab lists it in: 23.5 h;
 *   !77 on profiles-worker, merged 24 Nov 09:00, shipped 09:45 by the sync after a GitOps hand-off: 45 minutes, its
 *     page unknown (read before the address was kept);
 *   a request read by an earlier release (no iid, title nor page), on a project mapped on the application itself,
 *     merged 22 Nov 08:00 and shipped 23 Nov 07:58 by the first deployment after it: 23.966 h, which reads 23.9 h,
 *     not elite's bound of 24.0 h.
 */
const MR_318: LeadTime = {
  mergeRequestIid: 318,
  title: 'Cache profile avatars',
  projectId: 41,
  componentId: 'profiles-api',
  mergedAt: '2026-11-26T14:10:00Z',
  deploymentKey: 'argocd:profiles-api-prod:281',
  deployedAt: '2026-11-27T13:40:00Z',
  leadTimeHours: 23.5,
  matchRule: 'deployment link',
  url: 'https://gitlab.example.org/profiles/profiles-api/-/merge_requests/318',
};
const MR_77: LeadTime = {
  mergeRequestIid: 77,
  title: 'Retry the outbox',
  projectId: 43,
  componentId: 'profiles-worker',
  mergedAt: '2026-11-24T09:00:00Z',
  deploymentKey: 'argocd:profiles-worker-prod:112',
  deployedAt: '2026-11-24T09:45:00Z',
  leadTimeHours: 0.75,
  matchRule: 'gitops hand-off',
  url: null,
};
const UNNAMED: LeadTime = {
  mergeRequestIid: null,
  title: null,
  projectId: 40,
  componentId: null,
  mergedAt: '2026-11-22T08:00:00Z',
  deploymentKey: 'gitlab:40:9001',
  deployedAt: '2026-11-23T07:58:00Z',
  leadTimeHours: 23 + 58 / 60,
  matchRule: 'first deployment after merge',
  url: null,
};

/** A lead-times answer over last_7d, as the API gives it, with `items` and `extra` fields. */
function leadTimes(items: LeadTime[], extra: Partial<LeadTimeList> = {}): LeadTimeList {
  return {
    generatedAt: f.doraApp.generatedAt,
    freshness: f.doraApp.freshness,
    entityId: 'profiles',
    period: { name: 'last_7d', start: '2026-11-21T08:00:00Z', end: '2026-11-28T08:00:00Z' },
    countedFrom: '2026-11-21T08:00:00Z',
    items,
    page: { limit: 500, nextCursor: null },
    state: 'ok',
    readUntil: null,
    ...extra,
  };
}

/** profiles' summary and DORA row, and its lead times answered with `list`. */
function answerProfiles(list: LeadTimeList) {
  server.use(
    answer('/applications/:id/summary', f.summaryProfiles),
    answer('/kpis/dora', f.doraApp),
    answer('/applications/profiles/lead-times', list),
  );
}

/** Opens the list behind the DORA card's lead time. */
async function openTheList() {
  fireEvent.click(await screen.findByRole('button', { name: 'Show the merge requests behind the lead time' }));
}

const LIST = 'Merge requests behind the lead time';

/** The text of each cell of the list's rows by its column's header, as shown (not a link's words for a screen reader). */
async function rowsOfTheList(): Promise<Record<string, string>[]> {
  const table = await screen.findByRole('table', { name: LIST });
  const headers = within(table).getAllByRole('columnheader').map(h => h.textContent ?? '');
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map(row => {
      const cells = within(row)
        .getAllByRole('cell')
        .map(c => (c.textContent ?? '').replace(/, Opens in a new window$/, ''));
      return Object.fromEntries(headers.map((header, i) => [header, cells[i]]));
    });
}

describe("the merge requests behind an entity's lead time", () => {
  registerServer();
  afterEach(() => server.events.removeAllListeners());

  it("lists each request with its merge, its deployment, its lead time and the rule that found it", async () => {
    answerProfiles(leadTimes([MR_318, MR_77, UNNAMED]));
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    expect(await rowsOfTheList()).toEqual([
      {
        'Merge request': '!318',
        Title: 'Cache profile avatars',
        Component: 'profiles-api',
        Merged: '2026-11-26 14:10:00 UTC',
        Deployed: '2026-11-27 13:40:00 UTC',
        'Lead time': '23.5 h',
        Rule: 'deployment link',
      },
      {
        'Merge request': '!77',
        Title: 'Retry the outbox',
        Component: 'profiles-worker',
        Merged: '2026-11-24 09:00:00 UTC',
        Deployed: '2026-11-24 09:45:00 UTC',
        'Lead time': '45 min',
        Rule: 'gitops hand-off',
      },
      {
        'Merge request': '–',
        Title: '–',
        Component: 'profiles',
        Merged: '2026-11-22 08:00:00 UTC',
        Deployed: '2026-11-23 07:58:00 UTC',
        'Lead time': '23.9 h',
        Rule: 'first deployment after merge',
      },
    ]);
    expect(screen.getByTestId('lead-time-requests').parentElement).toHaveTextContent(
      /^3 merge requests shipped over 2026-11-21 to 2026-11-28: /,
    );
  });

  it("links a request to its page in GitLab, and names one whose page is unknown in plain text", async () => {
    answerProfiles(leadTimes([MR_318, MR_77]));
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    const table = await screen.findByRole('table', { name: LIST });
    // Backstage names a link that opens a new tab ", Opens in a new window" for a screen reader.
    expect(within(table).getByRole('link', { name: /^!318\b/ })).toHaveAttribute('href', MR_318.url);
    expect(within(table).getByText('!77')).toBeInTheDocument();
    expect(within(table).queryByRole('link', { name: /^!77\b/ })).not.toBeInTheDocument();
  });

  // The list is the sample the lead time is taken over: the card's period, the tab's 24 hours read as 7 days.
  it("asks for the application's requests over the card's period, on the tab's 30 days too", async () => {
    answerProfiles(leadTimes([MR_318]));
    server.use(answer('/applications/profiles/lead-times', leadTimes([MR_77]), { period: 'last_30d' }));
    const asked = askedOf('/applications/profiles/lead-times');
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_30d" />);
    await openTheList();
    expect((await rowsOfTheList()).map(row => row['Merge request'])).toEqual(['!77']);
    expect(asked.map(query => query.get('period'))).toEqual(['last_30d']);
  });

  // A component's DORA row is its application's: the requests behind it are the application's, its components' too.
  it("on a component's page, lists its application's requests, behind the lead time shown", async () => {
    server.use(
      answer('/components/:id/summary', f.summaryBillingApi),
      answer('/kpis/dora', f.doraApp),
      answer('/applications/billing/lead-times', leadTimes([MR_318], { entityId: 'billing' })),
    );
    const asked = askedOf('/applications/billing/lead-times');
    await renderWithApi(<EntityDoraCard entity={billingApi} period="last_7d" />);
    await openTheList();
    expect((await rowsOfTheList()).map(row => row['Merge request'])).toEqual(['!318']);
    expect(asked).toHaveLength(1);
  });

  it('reads the list page after page, following the next-page cursor', async () => {
    server.use(
      answer('/applications/:id/summary', f.summaryProfiles),
      answer('/kpis/dora', f.doraApp),
      answer('/applications/profiles/lead-times', leadTimes([UNNAMED]), { cursor: 'page-2' }),
      answer('/applications/profiles/lead-times', {
        ...leadTimes([MR_318, MR_77]),
        page: { limit: 2, nextCursor: 'page-2' },
      }),
    );
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    expect((await rowsOfTheList()).map(row => row['Lead time'])).toEqual(['23.5 h', '45 min', '23.9 h']);
    expect(screen.getByTestId('lead-time-requests')).toHaveTextContent('3');
  });

  it('says from when deployments were read when the lake is younger than the period', async () => {
    answerProfiles(leadTimes([MR_318], { countedFrom: '2026-11-24T00:00:00Z' }));
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    expect(await screen.findByTestId('lead-time-requests')).toBeInTheDocument();
    expect(screen.getByTestId('lead-time-requests').parentElement).toHaveTextContent(
      /^1 merge request shipped over 2026-11-21 to 2026-11-28, deployments read since 2026-11-24: /,
    );
  });

  it('says the requests are unknown, not none, for an application tied to no GitLab project', async () => {
    answerProfiles(leadTimes([], { state: 'not mapped' }));
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    expect(await screen.findByText('No source of merge requests mapped')).toBeInTheDocument();
    expect(screen.getByText(/No GitLab project is mapped to this application/)).toHaveTextContent('unknown, not none');
    expect(screen.queryByText('No merge requests in the period')).not.toBeInTheDocument();
  });

  it('says the requests were never read when the lake has not read them', async () => {
    answerProfiles(leadTimes([], { state: 'not read' }));
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    expect(await screen.findByText('No merge requests read yet')).toBeInTheDocument();
  });

  it('says so when none shipped in the period', async () => {
    answerProfiles(leadTimes([]));
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    expect(await screen.findByText('No merge requests in the period')).toBeInTheDocument();
  });

  // Deployments read only up to 26 November: a request shipped later is not listed, and none is not "none".
  it('says how far deployments were read, in place of "none in the period" and beside a count', async () => {
    const readUntil = '2026-11-26T00:00:00Z';
    answerProfiles(leadTimes([], { readUntil }));
    const { unmount } = await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    // The warning panel splits its title over several elements: read as the page's text.
    await screen.findAllByText(/read only up to/);
    expect(document.body).toHaveTextContent(
      'Deployments (ArgoCD, GitLab) read only up to 2026-11-26 00:00:00 UTC: later ones unknown',
    );
    expect(screen.queryByText('No merge requests in the period')).not.toBeInTheDocument();
    unmount();

    answerProfiles(leadTimes([MR_77], { readUntil }));
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    await openTheList();
    expect((await screen.findByTestId('lead-time-requests')).parentElement).toHaveTextContent(
      /^1 merge request shipped over 2026-11-21 to 2026-11-28 as read up to 2026-11-26 00:00:00 UTC: /,
    );
  });

  // Asked for when opened: the tab's other widgets load as before, and nothing asks for the list unopened.
  it('is asked for only once opened, and can be closed again', async () => {
    answerProfiles(leadTimes([MR_318]));
    const asked = askedOf('/applications/profiles/lead-times');
    await renderWithApi(<EntityDoraCard entity={profiles} period="last_7d" />);
    const show = await screen.findByRole('button', { name: 'Show the merge requests behind the lead time' });
    expect(show).toHaveAttribute('aria-expanded', 'false');
    expect(asked).toHaveLength(0);
    fireEvent.click(show);
    expect(await screen.findByRole('table', { name: LIST })).toBeInTheDocument();
    expect(asked).toHaveLength(1);
    fireEvent.click(screen.getByRole('button', { name: 'Hide the merge requests behind the lead time' }));
    expect(screen.queryByRole('table', { name: LIST })).not.toBeInTheDocument();
  });

  it("is on the DORA card of the entity's Monitoring tab", async () => {
    server.use(
      answer('/applications/:id/summary', f.summaryProfiles),
      answer('/applications/:id/timeseries', f.timeseriesProfilesP95),
      answer('/applications/:id/logs/link', f.logsProfiles),
      answer('/applications/:id/deployments', f.deploymentsLiveProfiles, { mode: 'live' }),
      answer('/applications/:id/deployments', f.deploymentsHistoryProfiles, { mode: 'history' }),
      answer('/applications/:id/incidents', f.incidentsProfiles),
      answer('/applications/:id/changes', f.changesRecentProfiles),
      answer('/kpis/dora', f.doraApp),
      answer('/applications/profiles/lead-times', leadTimes([MR_318])),
    );
    await renderWithApi(<MonitoringTab />, profilesSystem);
    await openTheList();
    expect((await rowsOfTheList()).map(row => row['Merge request'])).toEqual(['!318']);
  });
});
