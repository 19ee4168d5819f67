import { screen, within } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { DeploymentsCard } from './DeploymentsCard';
import { LogsLinkCard } from './LogsLinkCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';
// A script URL, as a source could write one where a web address belongs.
// eslint-disable-next-line no-script-url
const SCRIPT = 'javascript:alert(document.cookie)';

describe('links from source fields', () => {
  registerServer();

  /*
   * GitLab's web_url is passed on as GitLab wrote it. A pipeline whose link is a javascript: URL made Backstage's Link
   * throw, and the whole card was an error; the card now shows the pipeline's status as text, with no link, and its
   * other figures as usual.
   */
  it('shows a pipeline whose link is not a web address as text', async () => {
    const [first] = f.deploymentsLiveProfiles.live!;
    const live = [{ ...first, lastPipelineUrl: SCRIPT }];
    server.use(
      answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live }, { mode: 'live' }),
      answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
    );
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    const [table] = await screen.findAllByRole('table');
    const row = within(within(table).getByText('profiles-api').closest('tr')!);
    expect(row.getByText(/^failed$/)).toBeInTheDocument();
    expect(row.getByText('Synced / Healthy')).toBeInTheDocument();
    expect(document.querySelector('a[href^="javascript"]')).toBeNull();
  });

  it('still links a pipeline at its https address', async () => {
    server.use(
      answer(`${base}/deployments`, f.deploymentsLiveProfiles, { mode: 'live' }),
      answer(`${base}/deployments`, f.deploymentsHistoryProfiles, { mode: 'history' }),
    );
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    const link = await screen.findByRole('link', { name: /failed \(main\)/ });
    const pipeline = 'https://gitlab.example.org/commerce/profiles/profiles-api/-/pipelines/100008';
    expect(link).toHaveAttribute('href', pipeline);
  });

  /* A logs link that is not a web address is not made a link: the card says so, and shows the query all the same. */
  it('does not link a logs link that is not a web address', async () => {
    server.use(answer(`${base}/logs/link`, { ...f.logsProfiles, url: SCRIPT }));
    await renderWithApi(<LogsLinkCard entity={profiles} period="last_7d" />);
    expect(await screen.findByText(/^The API's Kibana link is not a web address/)).toBeInTheDocument();
    expect(screen.queryByRole('link')).not.toBeInTheDocument();
    expect(screen.getByText(f.logsProfiles.query)).toBeInTheDocument();
  });
});
