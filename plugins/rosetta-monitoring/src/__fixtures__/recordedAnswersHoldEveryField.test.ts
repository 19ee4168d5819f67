import fs from 'node:fs';
import * as f from '../__testUtils__/fixtures';
import { departuresFromSchema } from '../__testUtils__/openApi';

/**
 * Each recorded answer and the schema of the endpoint it was recorded from: a recording short of a field the API sends
 * would leave the rendering of that field tested on hand-made answers only.
 */
const RECORDED: [string, string, unknown][] = [
  ['summary-profiles', 'Summary', f.summaryProfiles],
  ['summary-billing-api', 'Summary', f.summaryBillingApi],
  ['incidents-profiles', 'IncidentList', f.incidentsProfiles],
  ['changes-upcoming-profiles', 'ChangeList', f.changesUpcomingProfiles],
  ['changes-recent-profiles', 'ChangeList', f.changesRecentProfiles],
  ['deployments-live-profiles', 'DeploymentList', f.deploymentsLiveProfiles],
  ['deployments-history-profiles', 'DeploymentList', f.deploymentsHistoryProfiles],
  ['logs-profiles', 'LogsLink', f.logsProfiles],
  ['timeseries-profiles-p95', 'Timeseries', f.timeseriesProfilesP95],
  ['overview', 'Overview', f.overview],
  ['dora-group', 'DoraReport', f.doraGroup],
  ['dora-app', 'DoraReport', f.doraApp],
  ['risk-top', 'RiskReport', f.riskTop],
];

/**
 * Each answer made by hand in the test utilities and the schema of the endpoint it stands for: one short of a field
 * would leave the rendering of that field tested on no full answer.
 */
const MADE_BY_HAND: [string, string, unknown][] = [
  ['incidentsReportApp', 'IncidentsReport', f.incidentsReportApp],
  ['incidentsReportTeam', 'IncidentsReport', f.incidentsReportTeam],
  ['sloTeam', 'SloReport', f.sloTeam],
  ['sloAppProfiles', 'SloReport', f.sloAppProfiles],
  ['summaryProfilesWithLatency', 'Summary', f.summaryProfilesWithLatency()],
  ['changesReportTeam', 'ChangesReport', f.changesReportTeam],
  ['riskTopWhere', 'RiskReport', f.riskTopWhere(() => true)],
];

describe('every recorded answer', () => {
  it('is in the table', () => {
    const files = fs.readdirSync(__dirname).filter(name => name.endsWith('.json'));
    expect(RECORDED.map(([name]) => `${name}.json`).sort()).toEqual(files.sort());
  });

  it.each(RECORDED)('%s holds every field of the schema %s', (_, schema, recorded) => {
    expect(departuresFromSchema(recorded, schema)).toEqual([]);
  });
});

describe('every answer made by hand', () => {
  it.each(MADE_BY_HAND)('%s holds every field of the schema %s', (_, schema, made) => {
    expect(departuresFromSchema(made, schema)).toEqual([]);
  });
});
