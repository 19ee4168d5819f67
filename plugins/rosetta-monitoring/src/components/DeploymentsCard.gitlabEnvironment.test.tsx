import { screen, within } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { DeploymentsCard } from './DeploymentsCard';

/*
 * profiles-worker's GitLab project deploys to GitLab's production folder, region by region: both deployments count in
 * production, and the history says which went to production/eu and which to Production/us (as GitLab names them).
 * profiles-gateway's ArgoCD deployments name no GitLab environment.
 */
const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';
const HISTORY = 'Deployment history';

/** The recorded history with each deployment's GitLab environment set from `regions` (by key), the others none. */
function answering(regions: Record<string, string>) {
  const items = f.deploymentsHistoryProfiles.items!.map(d => ({
    ...d,
    sourceEnvironment: regions[d.deploymentKey] ?? null,
  }));
  server.use(
    answer(`${base}/deployments`, f.deploymentsLiveProfiles, { mode: 'live' }),
    answer(`${base}/deployments`, { ...f.deploymentsHistoryProfiles, items }, { mode: 'history' }),
  );
}

/** The history's column headers, in order. */
function headers(): string[] {
  const table = screen.getByRole('table', { name: HISTORY });
  return within(table)
    .getAllByRole('columnheader')
    .map(th => th.textContent ?? '');
}

/** The text of each row's `column` cell, in the order the rows are shown. */
function column(title: string): string[] {
  const table = screen.getByRole('table', { name: HISTORY });
  const at = headers().indexOf(title);
  return Array.from(table.querySelectorAll('tbody tr')).map(row => row.querySelectorAll('td')[at]?.textContent ?? '');
}

describe("a deployment's GitLab environment", () => {
  registerServer();

  it('tells the eu deployment from the us one, beside the component', async () => {
    answering({ 'gitlab:5008': 'production/eu', 'gitlab:5007': 'Production/us' });
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    await screen.findByRole('table', { name: HISTORY });

    expect(headers().slice(0, 3)).toEqual(['Finished', 'Component', 'GitLab environment']);
    // Newest first: the gateway's two ArgoCD syncs, the worker's eu deployment, a sync, the worker's us one, a sync.
    expect(column('GitLab environment')).toEqual(['–', '–', 'production/eu', '–', 'Production/us', '–']);
  });

  it('leaves the table as it was where GitLab names the environment itself, in any case', async () => {
    answering({ 'gitlab:5008': 'production', 'gitlab:5007': 'Production' });
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    await screen.findByRole('table', { name: HISTORY });

    expect(headers()).not.toContain('GitLab environment');
    expect(headers().slice(0, 3)).toEqual(['Finished', 'Component', 'Source']);
  });

  it('leaves the table as it was where no deployment names one', async () => {
    answering({});
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    await screen.findByRole('table', { name: HISTORY });

    expect(headers()).not.toContain('GitLab environment');
    expect(headers().slice(0, 3)).toEqual(['Finished', 'Component', 'Source']);
  });
});
