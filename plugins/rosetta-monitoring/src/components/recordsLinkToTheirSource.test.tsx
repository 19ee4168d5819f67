import { screen, within } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { monitoringOptions } from '../options';
import { IncidentsCard } from './IncidentsCard';
import { ChangesCard } from './ChangesCard';
import { DeploymentsCard } from './DeploymentsCard';
import { WithOptions } from './WithOptions';

/*
 * Each incident, change and deployment the API lists carries `url`, its page in ServiceNow or ArgoCD, or a GitLab
 * deployment's pipeline page (null when the API has none): the record's number, the deployment's ArgoCD application,
 * or "pipeline", opens it.
 */
const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';
const SERVICENOW = 'https://acme.service-now.com/nav_to.do?uri=';
const ARGOCD = 'https://argocd.acme.example/applications/payments/';
const GITLAB_PIPELINES = 'https://gitlab.acme.example/commerce/profiles/profiles-worker/-/pipelines/';
// A script URL, as a source could write one where a web address belongs.
// eslint-disable-next-line no-script-url
const SCRIPT = 'javascript:alert(1)';

/** The link named `name` (Backstage adds ", Opens in a new window" for a screen reader), else null. */
const linkNamed = (name: string) => screen.queryByRole('link', { name: new RegExp(`^${name}\\b`) });

/** The text of the `column` cell in the row of `table` that holds `text`. */
function cellOf(table: string, text: string, column: string): HTMLElement {
  const inTable = within(screen.getByRole('table', { name: table }));
  const row = inTable.getAllByText(text)[0].closest('tr')!;
  const headers = Array.from(row.closest('table')!.querySelectorAll('th')).map(th => th.textContent);
  return row.querySelectorAll('td')[headers.indexOf(column)] as HTMLElement;
}

/** The `column` cells of `table`, a row's each, in the order the rows are shown. */
function columnCells(table: string, column: string): HTMLElement[] {
  const element = screen.getByRole('table', { name: table });
  const headers = Array.from(element.querySelectorAll('th')).map(th => th.textContent);
  const rows = Array.from(element.querySelectorAll('tbody tr'));
  return rows.map(row => row.querySelectorAll('td')[headers.indexOf(column)] as HTMLElement);
}

describe('records link to their page in their source', () => {
  registerServer();

  it("links an incident's number to its ServiceNow form, in a new tab; plain text without one", async () => {
    const [open, other] = f.incidentsProfiles.items.filter(i => i.isOpen);
    const url = `${SERVICENOW}incident.do%3Fsys_id%3D${open.sysId}`;
    server.use(
      answer(`${base}/incidents`, { ...f.incidentsProfiles, items: [{ ...open, url }, { ...other, url: null }] }, {
        status: 'open',
      }),
      answer(`${base}/incidents`, { ...f.incidentsProfiles, items: [] }, { status: 'closed' }),
    );
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    await screen.findByRole('table', { name: 'Open incidents' });
    const link = linkNamed(open.number)!;
    expect(link).toHaveAttribute('href', url);
    expect(link).toHaveAttribute('target', '_blank');
    expect(linkNamed(other.number)).toBeNull();
    expect(cellOf('Open incidents', other.number, 'Number')).toHaveTextContent(new RegExp(`^${other.number}$`));
  });

  it("links a change's number to its ServiceNow form; plain text without one", async () => {
    const [first, second] = f.changesRecentProfiles.items;
    const url = `${SERVICENOW}change_request.do%3Fsys_id%3D${first.sysId}`;
    server.use(
      answer(`${base}/changes`, { ...f.changesUpcomingProfiles, items: [] }, { status: 'upcoming' }),
      answer(`${base}/changes`, { ...f.changesRecentProfiles, items: [{ ...first, url }, { ...second, url: null }] }, {
        status: 'recent',
      }),
    );
    await renderWithApi(<ChangesCard entity={profiles} period="last_7d" />);
    await screen.findByRole('table', { name: 'Recent changes' });
    const link = linkNamed(first.number!)!;
    expect(link).toHaveAttribute('href', url);
    expect(link).toHaveAttribute('target', '_blank');
    expect(linkNamed(second.number!)).toBeNull();
  });

  it("shows each deployment's ArgoCD application, a link to it in ArgoCD when the API gives one", async () => {
    const items = f.deploymentsHistoryProfiles.items;
    const argo = items.find(d => d.origin === 'argocd')!;
    const gitlab = items.find(d => d.origin === 'gitlab')!;
    const url = `${ARGOCD}${argo.sourceRef}`;
    server.use(
      answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live: [] }, { mode: 'live' }),
      answer(
        `${base}/deployments`,
        { ...f.deploymentsHistoryProfiles, items: [{ ...argo, url }, { ...gitlab, url: null }] },
        { mode: 'history' },
      ),
    );
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    await screen.findByRole('table', { name: 'Deployment history' });
    const link = linkNamed(argo.sourceRef!)!;
    expect(link).toHaveAttribute('href', url);
    expect(link).toHaveAttribute('target', '_blank');
    // A GitLab deployment whose pipeline the API does not know has nothing to name.
    expect(cellOf('Deployment history', gitlab.componentId!, 'Source')).toHaveTextContent(/^–$/);
  });

  it("names the ArgoCD application as plain text when the API has no ArgoCD URL", async () => {
    const argo = f.deploymentsHistoryProfiles.items.find(d => d.origin === 'argocd')!;
    server.use(
      answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live: [] }, { mode: 'live' }),
      answer(`${base}/deployments`, { ...f.deploymentsHistoryProfiles, items: [{ ...argo, url: null }] }, {
        mode: 'history',
      }),
    );
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    await screen.findByRole('table', { name: 'Deployment history' });
    expect(cellOf('Deployment history', argo.componentId!, 'Source')).toHaveTextContent(
      new RegExp(`^${argo.sourceRef}$`),
    );
    expect(linkNamed(argo.sourceRef!)).toBeNull();
  });

  it("links a GitLab deployment to its deploying pipeline when the API gives one; – without", async () => {
    const [deployed, other] = f.deploymentsHistoryProfiles.items.filter(d => d.origin === 'gitlab');
    const url = `${GITLAB_PIPELINES}100012`;
    const items = [{ ...deployed, url }, { ...other, url: null }, { ...other, url: SCRIPT }];
    server.use(
      answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live: [] }, { mode: 'live' }),
      answer(`${base}/deployments`, { ...f.deploymentsHistoryProfiles, items }, { mode: 'history' }),
    );
    await renderWithApi(<DeploymentsCard entity={profiles} period="last_7d" />);
    const table = await screen.findByRole('table', { name: 'Deployment history' });
    const link = within(table).getByRole('link', { name: /^pipeline\b/ });
    expect(link).toHaveAttribute('href', url);
    expect(link).toHaveAttribute('target', '_blank');
    const [linked, withoutUrl, notWebAddress] = columnCells('Deployment history', 'Source');
    expect(linked).toContainElement(link);
    expect(withoutUrl).toHaveTextContent(/^–$/);
    // What is not a web address is not a pipeline's page either.
    expect(notWebAddress).toHaveTextContent(/^–$/);
  });

  it("takes the API's link for the live status's ArgoCD application over the configured base's", async () => {
    const argo = f.deploymentsHistoryProfiles.items.find(d => d.origin === 'argocd')!;
    const live = f.deploymentsLiveProfiles.live!.find(l => l.argocdApp === argo.sourceRef)!;
    const url = `${ARGOCD}${argo.sourceRef}`;
    server.use(
      answer(`${base}/deployments`, { ...f.deploymentsLiveProfiles, live: [live] }, { mode: 'live' }),
      answer(`${base}/deployments`, { ...f.deploymentsHistoryProfiles, items: [{ ...argo, url }] }, {
        mode: 'history',
      }),
    );
    await renderWithApi(
      <WithOptions options={monitoringOptions({ argocdBaseUrl: 'https://argocd.other.example' })}>
        <DeploymentsCard entity={profiles} period="last_7d" />
      </WithOptions>,
    );
    const table = await screen.findByRole('table', { name: 'Live deployment status' });
    expect(within(table).getByRole('link', { name: new RegExp(`^${live.argocdApp}\\b`) })).toHaveAttribute('href', url);
  });

  it('never links what is not a web address', async () => {
    const [open] = f.incidentsProfiles.items.filter(i => i.isOpen);
    server.use(
      answer(`${base}/incidents`, { ...f.incidentsProfiles, items: [{ ...open, url: SCRIPT }] }, {
        status: 'open',
      }),
      answer(`${base}/incidents`, { ...f.incidentsProfiles, items: [] }, { status: 'closed' }),
    );
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    await screen.findByRole('table', { name: 'Open incidents' });
    expect(linkNamed(open.number)).toBeNull();
  });
});
