import { screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { API, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { HealthCard } from './HealthCard';
import { MonitoringTab } from './MonitoringTab';

const inStaging = {
  ...profilesSystem,
  metadata: { ...profilesSystem.metadata, annotations: { 'rosetta.io/environment': 'staging' } },
};
const stagingSummary = { ...f.summaryProfiles, entity: { ...f.summaryProfiles.entity, environment: 'staging' } };

/** Answers `summary` on the summary route, fails every other call. */
function answerSummaryOf(summary: typeof f.summaryProfiles) {
  server.use(
    http.get(`${API}/*`, ({ request }) =>
      new URL(request.url).pathname.endsWith('/summary')
        ? HttpResponse.json(summary)
        : HttpResponse.json({ title: 'Internal error', status: 500, detail: 'boom' }, { status: 500 }),
    ),
  );
}

// Staging's figures look like production's: a page that does not say which environment it shows reads as production.
describe('the environment a figure is for', () => {
  registerServer();

  it("names the environment the health card's figures are for", async () => {
    answerSummaryOf(stagingSummary);
    await renderWithApi(<HealthCard />, inStaging);
    expect(await screen.findByTestId('health-environment')).toHaveTextContent(/^staging$/);
  });

  it('names the environment the rosetta.io/environment annotation picks on the monitoring tab', async () => {
    answerSummaryOf(stagingSummary);
    await renderWithApi(<MonitoringTab />, inStaging);
    expect(await screen.findByTestId('monitoring-environment')).toHaveTextContent('Environment: staging');
  });

  it("says the tab of an entity without the annotation shows the API's production environment", async () => {
    answerSummaryOf(f.summaryProfiles);
    await renderWithApi(<MonitoringTab />, profilesSystem);
    expect(await screen.findByTestId('monitoring-environment')).toHaveTextContent(
      "Environment: the estate's production environment",
    );
    expect(await screen.findByTestId('health-environment')).toHaveTextContent(/^production$/);
  });
});
