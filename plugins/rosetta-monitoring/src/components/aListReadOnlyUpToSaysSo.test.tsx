import { screen, within } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { IncidentsCard } from './IncidentsCard';
import { ChangesCard } from './ChangesCard';
import { DeploymentsCard } from './DeploymentsCard';

/*
 * The build ran at 00:30 on 28 November with ServiceNow and the deployment sources read only up to 23:50 the day
 * before: the API lists what it read and says how far (`readUntil`). Whatever came after is unknown, so a card must
 * say so rather than "No incidents in the period" or "0 deployments in the period".
 */
const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';
const READ_UNTIL = '2026-11-27T23:50:00Z';
/** READ_UNTIL as every card writes a time. */
const SHOWN = '2026-11-27 23:50:00 UTC';

/** A recorded list answer, with `items`, read only up to READ_UNTIL. */
const readUntil = <T extends object>(recorded: T, items: unknown[]) => ({
  ...recorded,
  items,
  readUntil: READ_UNTIL,
});

/** The recorded incidents that are open now, or closed. */
const incidents = (status: 'open' | 'closed') =>
  f.incidentsProfiles.items.filter(i => i.isOpen === (status === 'open'));

/** The card's text, once `shown` is there. */
async function cardText(shown: string | RegExp): Promise<string> {
  await screen.findAllByText(shown);
  return document.body.textContent ?? '';
}

describe('a list the lake read only up to a time', () => {
  registerServer();

  it('says the incidents after that are unknown, not that there were none', async () => {
    server.use(
      answer(`${base}/incidents`, readUntil(f.incidentsProfiles, []), { status: 'open' }),
      answer(`${base}/incidents`, readUntil(f.incidentsProfiles, []), { status: 'closed' }),
    );
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    const text = await cardText(/read only up to/);
    expect(text).toContain(`ServiceNow's incidents read only up to ${SHOWN}: later ones unknown`);
    expect(text).not.toContain('No incidents in the period');
    // Said where a screen reader hears a widget's state, as the empty state it stands for would be.
    expect(screen.getByRole('status')).toHaveTextContent(`read only up to ${SHOWN}`);
  });

  it('counts the incidents it lists as read up to then, not as now', async () => {
    server.use(
      answer(`${base}/incidents`, readUntil(f.incidentsProfiles, incidents('open')), { status: 'open' }),
      answer(`${base}/incidents`, readUntil(f.incidentsProfiles, incidents('closed')), { status: 'closed' }),
    );
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    const text = await cardText(/read only up to/);
    expect(text).toContain(`ServiceNow's incidents read only up to ${SHOWN}: later ones unknown`);
    const counts = (await screen.findByTestId('open-incidents')).parentElement!;
    // Two open in the recorded answer (INC0010003, INC0010004).
    expect(counts).toHaveTextContent(`2 open as read up to ${SHOWN}, however old`);
    expect(counts).toHaveTextContent(`opened in the period as read up to ${SHOWN}`);
    expect(counts).not.toHaveTextContent('open now');
  });

  it('says the changes after that are unknown, and counts those listed as read up to then', async () => {
    server.use(
      answer(`${base}/changes`, readUntil(f.changesUpcomingProfiles, []), { status: 'upcoming' }),
      answer(`${base}/changes`, readUntil(f.changesRecentProfiles, []), { status: 'recent' }),
    );
    const { unmount } = await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
    const empty = await cardText(/read only up to/);
    expect(empty).toContain(`ServiceNow's change requests read only up to ${SHOWN}: later ones unknown`);
    expect(empty).not.toContain('No changes in the period');
    unmount();

    server.use(
      answer(`${base}/changes`, readUntil(f.changesUpcomingProfiles, []), { status: 'upcoming' }),
      answer(`${base}/changes`, readUntil(f.changesRecentProfiles, f.changesRecentProfiles.items), {
        status: 'recent',
      }),
    );
    await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
    await screen.findByText(/read only up to/);
    // Seven recent changes in the recorded answer, none upcoming read.
    expect(screen.getByText(`Recent (7 as read up to ${SHOWN})`)).toBeInTheDocument();
    expect(screen.getByText(`Upcoming (0 as read up to ${SHOWN})`)).toBeInTheDocument();
    expect(screen.queryByText('Upcoming (0)')).not.toBeInTheDocument();
  });

  it('says the deployments after that are unknown, never a bare 0 deployments', async () => {
    server.use(
      answer(`${base}/deployments`, f.deploymentsLiveProfiles, { mode: 'live' }),
      answer(`${base}/deployments`, readUntil(f.deploymentsHistoryProfiles, []), { mode: 'history' }),
    );
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_24h" />);
    const text = await cardText(/read only up to/);
    expect(text).toContain(`Deployments (ArgoCD, GitLab) read only up to ${SHOWN}: later ones unknown`);
    const count = (await screen.findByTestId('deployments-count')).parentElement!;
    expect(count).toHaveTextContent(`0 deployments in the period as read up to ${SHOWN}`);
    const history = screen.getByRole('table', { name: 'Deployment history' });
    expect(within(history).getByText(`No deployment in the period as read up to ${SHOWN}.`)).toBeInTheDocument();
  });

  it('still says there were none when every day of the list was read', async () => {
    server.use(
      answer(`${base}/incidents`, { ...f.incidentsProfiles, items: [], readUntil: null }, { status: 'open' }),
      answer(`${base}/incidents`, { ...f.incidentsProfiles, items: [] }, { status: 'closed' }),
    );
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    expect(await screen.findByText('No incidents in the period')).toBeInTheDocument();
    expect(screen.queryByText(/read only up to/)).not.toBeInTheDocument();
  });
});
