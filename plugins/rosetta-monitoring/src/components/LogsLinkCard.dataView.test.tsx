import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { LogsLinkCard } from './LogsLinkCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';

describe('logs link data view', () => {
  registerServer();

  /*
   * Kibana could not be reached: the link opens logs-profiles-* as its data view, which Discover shows only if Kibana
   * has a data view of that id. The card said nothing of it; it now says so, and why.
   */
  it('says the link opens the index pattern when no data view was found', async () => {
    const reason = "Kibana's data views could not be read: no answer (ConnectError)";
    server.use(
      answer(`${base}/logs/link`, {
        ...f.logsProfiles,
        dataViewId: 'logs-profiles-*',
        dataViewFrom: 'index pattern',
        dataViewReason: reason,
      }),
    );
    await renderWithApi(<LogsLinkCard entity={profiles} period="last_7d" />);
    expect(await screen.findByRole('status')).toHaveTextContent(
      `No Kibana data view found for logs-profiles-*: the link opens the index pattern itself (${reason}).`,
    );
  });

  it('says nothing more when Kibana gave the data view', async () => {
    server.use(answer(`${base}/logs/link`, { ...f.logsProfiles, dataViewFrom: 'kibana', dataViewReason: null }));
    await renderWithApi(<LogsLinkCard entity={profiles} period="last_7d" />);
    expect(await screen.findByText('Open the logs in Kibana')).toBeInTheDocument();
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });
});
