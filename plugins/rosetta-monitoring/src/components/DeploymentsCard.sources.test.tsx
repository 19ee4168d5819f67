import { screen, within } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { DeploymentsCard } from './DeploymentsCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';
const GITLAB_NOT_CONFIGURED = 'GitLab is not configured (ROSETTA_GITLAB_URL/ROSETTA_GITLAB_TOKEN)';

/** The recorded live answer with its rows replaced by `live`, and the recorded history. */
function answering(live: object[]) {
  server.use(
    answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live }, { mode: 'live' }),
    answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
  );
}

/** The live table's row of `component`: the card's first table (the history table names components too). */
const liveRow = async (component: string) => {
  const [live] = await screen.findAllByRole('table');
  return within(within(live).getByText(component).closest('tr')!);
};

describe('live deployments per source', () => {
  registerServer();

  /*
   * ArgoCD gave no answer, GitLab answered: profiles-api's sync status is history's, read at 09:45 on the 20th, its
   * pipeline live, fetched at 08:20:43 on the 28th. The row said "stale" for both, and dated the live pipeline as if
   * it were history's; it now says which is which, and dates only ArgoCD's status.
   */
  it('says which source is live and which is from history', async () => {
    const [first] = f.deploymentsLiveProfiles.live!;
    answering([
      {
        ...first,
        stale: true,
        staleReason: 'argocd: no answer within 2 s',
        statusObservedAt: '2026-11-20T09:45:00Z',
        sources: {
          argocd: { state: 'fallback', fetchedAt: null, reason: 'no answer within 2 s' },
          gitlab: { state: 'live', fetchedAt: '2026-11-28T08:20:43Z', reason: null },
        },
      },
    ]);
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    const cells = await liveRow(first.componentId);
    expect(cells.getByTestId('live-argocd')).toHaveTextContent(/^ArgoCD: from history, no answer within 2 s$/);
    expect(cells.getByTestId('live-gitlab')).toHaveTextContent(/^GitLab: live \(fetched 2026-11-28 08:20:43 UTC\)$/);
    expect(cells.getByText(/read 2026-11-20 09:45:00 UTC/)).toBeInTheDocument();
    expect(cells.queryByText(/updated 2026-11-27/)).not.toBeInTheDocument();
  });

  /*
   * profiles-gateway has no ArgoCD application, and GitLab is not configured: its pipeline is history's (updated at
   * 10:05:51 on the 27th, dated), and ArgoCD has nothing to say of it.
   */
  it('says a source is not mapped, or not configured', async () => {
    const [first] = f.deploymentsLiveProfiles.live!;
    answering([
      {
        ...first,
        componentId: 'profiles-gateway',
        argocdApp: null,
        stale: true,
        staleReason: `gitlab: ${GITLAB_NOT_CONFIGURED}`,
        lastPipelineAt: '2026-11-27T10:05:51Z',
        sources: {
          argocd: { state: 'not mapped', fetchedAt: null, reason: null },
          gitlab: { state: 'not configured', fetchedAt: null, reason: GITLAB_NOT_CONFIGURED },
        },
      },
    ]);
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    const cells = await liveRow('profiles-gateway');
    expect(cells.getByTestId('live-argocd')).toHaveTextContent(/^ArgoCD: not mapped$/);
    expect(cells.getByTestId('live-gitlab')).toHaveTextContent(`GitLab: from history, ${GITLAB_NOT_CONFIGURED}`);
    expect(cells.getByText(/updated 2026-11-27 10:05:51 UTC/)).toBeInTheDocument();
  });
  /*
   * A new install: ArgoCD and GitLab answer live, and the lake has read no deployment yet (history 'not read'). The
   * card gave way to "No deployments read yet" whole, hiding the live status that was there; it now shows the live
   * table, and says the history is unknown rather than counting 0 deployments.
   */
  it('shows the live status when no deployment has been read yet', async () => {
    const [first] = f.deploymentsLiveProfiles.live!;
    server.use(
      answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live: [{ ...first, stale: false }] }, { mode: 'live' }),
      answer(
        `${base}/deployments`,
        { ...f.deploymentsHistoryProfiles, state: 'not read', items: [], readUntil: null },
        { mode: 'history' },
      ),
    );
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    expect((await liveRow(first.componentId)).getByText(first.componentId)).toBeInTheDocument();
    expect(screen.getByText(/^No deployments read yet: Rosetta Monitoring has never read deployments/)).toBeInTheDocument();
    expect(screen.queryByTestId('deployments-count')).not.toBeInTheDocument();
  });
});
