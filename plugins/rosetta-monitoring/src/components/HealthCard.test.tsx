import { screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { answer, API, billingApiComponent, problem, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { HealthCard } from './HealthCard';
import { LegacyHealthCard, LegacyMonitoringTab } from '../legacyComponents';

const annotated = (annotations: Record<string, string>) => ({
  ...profilesSystem,
  metadata: { ...profilesSystem.metadata, annotations },
});

describe('HealthCard', () => {
  registerServer();

  it("shows the application's colour and the reasons behind it", async () => {
    server.use(answer('/applications/:id/summary', f.summaryProfiles));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
    for (const reason of f.summaryProfiles.risk!.reasons) {
      expect(screen.getByText(reason)).toBeInTheDocument();
    }
    expect(screen.getByTestId('health-open-incidents')).toHaveTextContent(String(f.summaryProfiles.incidents.open));
  });

  // The API's verdict comes with the sentences that scored its risk, none for an application with a score of 0 (green)
  // or with neither traffic nor events over 14 days ('no data'): the card says why, not "no reason reported".
  it('says why a green application has no reason', async () => {
    const green = { ...f.summaryProfiles, risk: { rank: 3, riskScore: 0, health: 'green', reasons: [] } };
    server.use(answer('/applications/:id/summary', green));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent(/^green$/);
    expect(screen.getByText('no risk found over the last 7 days')).toBeInTheDocument();
    expect(screen.queryByText('no reason reported')).not.toBeInTheDocument();
  });

  it("says an application without data has no data, not that it has no reason", async () => {
    const quiet = { ...f.summaryProfiles, risk: { rank: 4, riskScore: 0, health: 'no data', reasons: [] } };
    server.use(answer('/applications/:id/summary', quiet));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent(/^no data$/);
    expect(screen.getByText('no traffic nor events over the last 14 days')).toBeInTheDocument();
    expect(screen.queryByText('no reason reported')).not.toBeInTheDocument();
  });

  it('judges a component on its signals when the API gives no verdict', async () => {
    server.use(answer('/components/:id/summary', f.summaryBillingApi));
    await renderWithApi(<HealthCard />, billingApiComponent);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.getByText('within thresholds, no open incident')).toBeInTheDocument();
  });

  // No ServiceNow CI is mapped to it: its incidents are unknown, which is neither "0 open" nor a reason to colour it.
  it('says the open incidents of a component tied to no ServiceNow CI are unknown, not zero', async () => {
    const unmapped = {
      ...f.summaryBillingApi,
      incidents: { state: 'not mapped' as const, open: null, openP1P2: null, slaBreached: null },
    };
    server.use(answer('/components/:id/summary', unmapped));
    await renderWithApi(<HealthCard />, billingApiComponent);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('green');
    expect(screen.getByTestId('health-open-incidents')).toHaveTextContent(/^unknown$/);
    expect(
      screen.getByText('within thresholds; incidents unknown (no ServiceNow CI of its own is mapped to it in this environment)'),
    ).toBeInTheDocument();
    expect(screen.queryByText('within thresholds, no open incident')).not.toBeInTheDocument();
  });

  // No ServiceNow ingest ever ran: the open incidents are unknown, and the card says why (not a mapping's gap).
  it("says the open incidents are unknown when the lake never read ServiceNow's incidents", async () => {
    const unread = {
      ...f.summaryProfiles,
      risk: null,
      incidents: { state: 'not read' as const, open: null, openP1P2: null, slaBreached: null },
    };
    server.use(answer('/applications/:id/summary', unread));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-open-incidents')).toHaveTextContent(/^unknown$/);
    // The verdict's reason and the open incidents' line.
    expect(screen.getAllByText(/ServiceNow's incidents were never read/)).toHaveLength(2);
    expect(screen.queryByText(/no ServiceNow CI/)).not.toBeInTheDocument();
  });

  // The API cannot tell whether an open incident breached its SLA when ServiceNow's task SLAs were never read, or
  // read only after it opened: the count is null then, and the card says unknown rather than printing nothing.
  it("says the open incidents' SLA breaches are unknown when the API cannot count them", async () => {
    const unread = { ...f.summaryProfiles, incidents: { ...f.summaryProfiles.incidents, slaBreached: null } };
    server.use(answer('/applications/:id/summary', unread));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-sla-breached')).toHaveTextContent(/^unknown$/);
    expect(screen.getByTestId('health-open-incidents')).toHaveTextContent(String(f.summaryProfiles.incidents.open));
  });

  it("counts the open incidents' SLA breaches when the API knows them", async () => {
    server.use(answer('/applications/:id/summary', f.summaryProfiles));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-sla-breached')).toHaveTextContent(
      new RegExp(`^${f.summaryProfiles.incidents.slaBreached}$`),
    );
  });

  // Beside the tab's period picker (last 7 days by default), "error rate 20.00% ≥ 5.00%" would read as the rate of
  // the picked period: it is the summary's, of the 24 hours to the last build's hour.
  it('says a verdict judged on the signals covers the 24 hours of the summary, in UTC', async () => {
    server.use(answer('/components/:id/summary', f.summaryBillingApi));
    await renderWithApi(<HealthCard />, billingApiComponent);
    expect(await screen.findByTestId('health-window')).toHaveTextContent(
      /^Signals from 2026-11-27 08:00:00 UTC to 2026-11-28 08:00:00 UTC$/,
    );
  });

  it("says the API's verdict weighs the last 7 days", async () => {
    server.use(answer('/applications/:id/summary', f.summaryProfiles));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-window')).toHaveTextContent(/^Risk over the last 7 days$/);
  });

  it('turns red on an error rate above the critical threshold', async () => {
    const failing = { ...f.summaryBillingApi, goldenSignals: { ...f.summaryBillingApi.goldenSignals, errorRate: 0.2 } };
    server.use(answer('/components/:id/summary', failing));
    await renderWithApi(<HealthCard />, billingApiComponent);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('red');
    expect(screen.getByText(/error rate 20.00% ≥ 5.00%/)).toBeInTheDocument();
  });

  // 4.996 % of errors is under the 5 % critical threshold and over the 1 % warning: orange. Rounded, the reason would
  // read "5.00%", the critical threshold itself, beside an orange dot; cut, it reads 4.99 %. Likewise a p95 of
  // 999.6 ms, under the 1,000 ms critical threshold, reads 999 ms, not 1000 ms.
  it('never rounds a figure up to the critical threshold it is under', async () => {
    const signals = { ...f.summaryBillingApi.goldenSignals, errorRate: 0.04996, latencyP95MaxMs: 999.6 };
    server.use(answer('/components/:id/summary', { ...f.summaryBillingApi, goldenSignals: signals }));
    await renderWithApi(<HealthCard />, billingApiComponent);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
    expect(screen.getByText('error rate 4.99% ≥ 1.00%')).toBeInTheDocument();
    expect(screen.getByText('latency p95 999 ms ≥ 500 ms')).toBeInTheDocument();
  });

  // A catalog entity named differently from its mapping entry, with the rosetta.io/app-id annotation the mapping
  // import reads, shows its health instead of "No mapping for this entity".
  it('uses the rosetta.io/app-id annotation to find the entity in the API', async () => {
    server.use(
      answer('/applications/profiles-legacy/summary', f.summaryProfiles),
      problem('/applications/:id/summary', 404, 'Unknown application', "no application 'profiles' in the mapping"),
    );
    await renderWithApi(<HealthCard />, annotated({ 'rosetta.io/app-id': 'profiles-legacy' }));
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
  });

  // An entity still annotated with the plugin's former rosetta.io/monitoring-id keeps working.
  it('still reads the former rosetta.io/monitoring-id annotation', async () => {
    server.use(
      answer('/applications/profiles-legacy/summary', f.summaryProfiles),
      problem('/applications/:id/summary', 404, 'Unknown application', "no application 'profiles-old' in the mapping"),
    );
    await renderWithApi(<HealthCard />, annotated({ 'rosetta.io/monitoring-id': 'profiles-legacy' }));
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
  });

  // An entity annotated rosetta.io/environment: staging shows its staging figures, not "No mapping for this entity"
  // (it is mapped in staging only).
  it('asks for the environment named by the rosetta.io/environment annotation', async () => {
    server.use(
      answer('/applications/:id/summary', f.summaryProfiles, { environment: 'staging' }),
      problem('/applications/:id/summary', 404, 'Unknown entity', "'profiles' is not mapped in environment 'production'"),
    );
    await renderWithApi(<HealthCard />, annotated({ 'rosetta.io/environment': 'staging' }));
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
  });

  // A catalog name is always an id the API takes; an annotation may not be ("Profiles App" has a space): the API
  // refuses it with 422 "Invalid app_id", and the card says which annotation to correct instead of failing.
  it('says the rosetta.io/app-id annotation is not a valid id', async () => {
    const said = 'app_id is not an entity id or ref like payments-api or component:default/payments-api';
    server.use(
      problem('/applications/:id/summary', 422, 'Invalid app_id', said, {
        errors: [{ parameter: 'app_id', in: 'path', detail: said }],
      }),
    );
    await renderWithApi(<HealthCard />, annotated({ 'rosetta.io/app-id': 'Profiles App' }));
    expect(await screen.findByText('Not a valid entity id')).toBeInTheDocument();
    expect(screen.getByText(/app_id is not an entity id or ref like payments-api/)).toHaveTextContent(
      /Correct the entity's rosetta\.io\/app-id annotation/,
    );
    expect(screen.queryByText(/Could not load health/)).not.toBeInTheDocument();
  });

  // An annotation longer than an id (255 characters) is refused as "Invalid app_id" too, under the same parameter
  // name: the card says the same.
  it('says a rosetta.io/app-id annotation too long for an id is not a valid id', async () => {
    const said = 'app_id is too long: at most 255 characters';
    server.use(
      problem('/applications/:id/summary', 422, 'Invalid app_id', said, {
        errors: [{ parameter: 'app_id', in: 'path', detail: said }],
      }),
    );
    await renderWithApi(<HealthCard />, annotated({ 'rosetta.io/app-id': 'a'.repeat(256) }));
    expect(await screen.findByText('Not a valid entity id')).toBeInTheDocument();
    expect(screen.queryByText(/Could not load health/)).not.toBeInTheDocument();
  });

  // The API reads an environment in any case ("Production" is production) but refuses one longer than 63 characters
  // with a 422 on the environment parameter: the card says which annotation to correct instead of failing.
  it('says the rosetta.io/environment annotation is not a valid environment', async () => {
    const said = 'environment is too long: at most 63 characters';
    server.use(
      problem('/applications/:id/summary', 422, 'Invalid environment', said, {
        errors: [{ parameter: 'environment', in: 'query', detail: said }],
      }),
    );
    await renderWithApi(<HealthCard />, annotated({ 'rosetta.io/environment': 'p'.repeat(64) }));
    expect(await screen.findByText('Not a valid environment')).toBeInTheDocument();
    expect(screen.getByText(/environment is too long/)).toHaveTextContent(
      `The monitoring API refuses this entity's environment: ${said}. Correct the entity's rosetta.io/environment ` +
        "annotation to an environment of the mapping (the API's production environment when it is not set).",
    );
    expect(screen.queryByText(/Could not load health/)).not.toBeInTheDocument();
  });

  it('says the entity has no mapping', async () => {
    server.use(problem('/applications/:id/summary', 404, 'Unknown application', "no application 'profiles' in the mapping"));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByText('No mapping for this entity')).toBeInTheDocument();
  });

  // A proxy entry whose target is not the API (a sign-in page in front of it, a wrong host) answers 200 with HTML:
  // the card says what answered and where to look, not "Unexpected token '<'".
  it('says when the proxy entry answers a web page instead of the API', async () => {
    server.use(
      http.get(`${API}/applications/:id/summary`, () =>
        HttpResponse.html('<!DOCTYPE html><html><body><form>Sign in</form></body></html>'),
      ),
    );
    await renderWithApi(<HealthCard />, profilesSystem);
    const said = await screen.findByText(/Could not load health/);
    expect(said).toHaveTextContent(/proxy entry \/rosetta answered text\/html, not JSON/);
    expect(said).not.toHaveTextContent(/Unexpected token/);
  });

  // A load balancer in front of the API answers its own 502 page when the API is down: the card's title says that a
  // web page answered and with which status, not the page's markup.
  it("says a gateway's error page answered, not its markup", async () => {
    server.use(
      http.get(`${API}/applications/:id/summary`, () =>
        HttpResponse.html('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', {
          status: 502,
          statusText: 'Bad Gateway',
        }),
      ),
    );
    await renderWithApi(<HealthCard />, profilesSystem);
    const said = await screen.findByText(/Could not load health/);
    expect(said).toHaveTextContent(/a web page answered \(502 Bad Gateway, text\/html\), not the monitoring API/);
    expect(said).not.toHaveTextContent(/<html>/);
  });

  it('shows an error panel when the API fails', async () => {
    server.use(problem('/applications/:id/summary', 500, 'Internal error', 'boom'));
    await renderWithApi(<HealthCard />, profilesSystem);
    expect(await screen.findByText(/Could not load health/)).toBeInTheDocument();
  });
});

// The legacy card is placed by hand on entity pages, with nothing filtering it by kind: on an API entity it says the
// kind is not monitored, without asking the API (an unanswered request fails the test).
describe('legacy entity components on a kind the API does not serve', () => {
  registerServer();

  const api = { ...profilesSystem, kind: 'API', metadata: { name: 'profiles-api' } };

  it('says the health card has nothing to show', async () => {
    await renderWithApi(<LegacyHealthCard />, api);
    expect(await screen.findByText('Not monitored')).toBeInTheDocument();
    expect(screen.getByText('Rosetta Monitoring covers Components and Systems, not API entities.')).toBeInTheDocument();
  });

  it('on a Group, points to the team card', async () => {
    const team = { ...profilesSystem, kind: 'Group', metadata: { name: 'team-egret' } };
    await renderWithApi(<LegacyHealthCard />, team);
    expect(await screen.findByText('Not monitored')).toBeInTheDocument();
    expect(
      screen.getByText(
        'Rosetta Monitoring covers Components and Systems, not Group entities: a team page shows its monitoring with EntityRosettaTeamCard.',
      ),
    ).toBeInTheDocument();
  });

  it('says the tab has nothing to show', async () => {
    await renderWithApi(<LegacyMonitoringTab />, api);
    expect(await screen.findByText('Not monitored')).toBeInTheDocument();
  });

  it('still shows a system', async () => {
    server.use(answer('/applications/:id/summary', f.summaryProfiles));
    await renderWithApi(<LegacyHealthCard />, profilesSystem);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
  });
});
