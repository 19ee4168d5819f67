import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import type { Entity } from '@backstage/catalog-model';
import { API, answer, problem, profilesSystem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { DoraReport, RiskReport, SloReport } from '../api/types';
import { TeamCard } from './TeamCard';
import { LegacyTeamCard } from '../legacyComponents';

const group = (name: string, annotations?: Record<string, string>, type = 'team'): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name, ...(annotations && { annotations }) },
  spec: { type, children: [] },
});

/*
 * team-egret's answers, cut from the recorded ones: its applications in the risk ranking, profiles (rank 1 in the
 * estate, orange, 3 incidents and a failed change over 7 days) then booking (rank 4, green); its SLO row (99.812 %
 * against 99.5 %, met); its DORA row, the recorded risk-it group's figures as the team's (0.5 deployment a day, on 8
 * of the 30 days, high).
 */
const egretRisks: RiskReport = f.riskTopWhere(r => r.team === 'team-egret');
const egretSlo: SloReport = { ...f.sloTeam, items: f.sloTeam.items.filter(r => r.id === 'team-egret') };
const doraRow = f.doraGroup.items.find(r => r.id === 'risk-it')!;
const egretDora: DoraReport = {
  ...f.doraGroup,
  groupBy: 'team',
  items: [{ ...doraRow, id: 'team-egret' }],
  page: { limit: 500, nextCursor: null, total: 1 },
};

/** The card's three questions, answered only when asked for `team` (an unanswered request fails the test). */
function answerTeam(team: string, answers: { risks?: unknown; slo?: unknown; dora?: unknown } = {}) {
  server.use(
    answer('/risk/top', answers.risks ?? egretRisks, { team }),
    answer('/kpis/slo', answers.slo ?? egretSlo, { team, groupBy: 'team', period: 'last_30d' }),
    answer('/kpis/dora', answers.dora ?? egretDora, { team, groupBy: 'team', period: 'last_30d' }),
  );
}

/*
 * The recorded estate's group risk-it and domain commerce hold team-egret alone: their applications are team-egret's
 * (profiles and booking), their SLO row team-egret's (99.812 % against 99.5 %), their DORA row the recorded risk-it
 * group's (0.5 deployment a day, on 8 of the 30 days, high).
 */
const riskItRisks: RiskReport = f.riskTopWhere(r => r.groupId === 'risk-it');
const levelSlo = (level: string, id: string): SloReport => ({
  ...egretSlo,
  groupBy: level,
  items: egretSlo.items.map(r => ({ ...r, id })),
});
const levelDora = (level: string, id: string): DoraReport => ({ ...egretDora, groupBy: level, items: [{ ...doraRow, id }] });

const doraGroupRiskIt: DoraReport = { ...f.doraGroup, items: [doraRow], page: { limit: 500, nextCursor: null, total: 1 } };

const LEVELS = ['team', 'group', 'domain'];

/** Answers GET `path` only when asked for `level`=`id` and no other level, with `query` besides. */
function answerLevel(path: string, body: unknown, level: string, id: string, query: Record<string, string> = {}) {
  return http.get(`${API}${path}`, ({ request }) => {
    const params = new URL(request.url).searchParams;
    if (params.get(level) !== id || LEVELS.some(other => other !== level && params.has(other))) return undefined;
    if (Object.entries(query).some(([k, v]) => params.get(k) !== v)) return undefined;
    return HttpResponse.json(body as any);
  });
}

/** The card's three questions at `level`, grouped by it. */
function answerAt(level: string, id: string, answers: { risks: unknown; slo: unknown; dora: unknown }) {
  server.use(
    answerLevel('/risk/top', answers.risks, level, id),
    answerLevel('/kpis/slo', answers.slo, level, id, { groupBy: level, period: 'last_30d' }),
    answerLevel('/kpis/dora', answers.dora, level, id, { groupBy: level, period: 'last_30d' }),
  );
}

/** The text of each row of the table under the heading `title`. */
function rowsUnder(title: string): string[] {
  const section = screen.getByRole('heading', { name: title }).closest('section')!;
  return within(section)
    .getAllByRole('row')
    .slice(1)
    .map(row => row.textContent ?? '');
}

describe('TeamCard', () => {
  registerServer();

  // Without the environment annotation the card names no environment: the API reads its production, whatever the
  // estate calls it (ROSETTA_PRODUCTION_ENVIRONMENT).
  it("asks for the team by the Group's name and shows its applications' health, riskiest first, its SLO and DORA", async () => {
    const asked: URL[] = [];
    const record = ({ request }: { request: Request }) => asked.push(new URL(request.url));
    server.events.on('request:start', record);
    server.use(
      answer('/risk/top', egretRisks, { team: 'team-egret' }),
      answer('/kpis/slo', egretSlo, { team: 'team-egret', groupBy: 'team', period: 'last_30d' }),
      answer('/kpis/dora', egretDora, { team: 'team-egret', groupBy: 'team', period: 'last_30d' }),
    );
    await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    server.events.removeListener('request:start', record);
    expect(asked.map(url => url.pathname.replace('/api/proxy/rosetta', '')).sort()).toEqual(
      ['/monitoring/kpis/dora', '/monitoring/kpis/slo', '/monitoring/risk/top'],
    );
    expect(asked.filter(url => url.searchParams.has('environment'))).toEqual([]);
    const risks = rowsUnder("Applications' health (last 7 days)");
    expect(risks).toHaveLength(2);
    expect(risks[0]).toMatch(/^1Profilesorange25.*3 incidents in 7 days; 1 failed change\(s\) in 7 days$/);
    expect(risks[1]).toMatch(/^4Bookinggreen0/);
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(rowsUnder('SLO (last 30 days)')).toHaveLength(1);
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
    expect(rowsUnder('DORA (last 30 days)')[0]).toMatch(/^team-egret/);
  });

  // An application with neither traffic nor events over 14 days has no data: its score of 0 (the API's sum of no
  // finding) is no measured risk, and it has no reason listed. Its row says so, as the health card does; a green
  // application's row says no risk was found, rather than leaving its reasons blank.
  it("shows an application without data with no score, and says why a row has no reason", async () => {
    const [profilesRow, bookingRow] = egretRisks.items;
    const quiet = { ...profilesRow, rank: 7, appId: 'quiet', appName: 'Quiet', riskScore: 0, health: 'no data', reasons: [], availability7D: null };
    const green = { ...bookingRow, riskScore: 0, health: 'green', reasons: [] };
    answerTeam('team-egret', { risks: { ...egretRisks, items: [green, quiet] } });
    await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText('Quiet')).toBeInTheDocument();
    const [greenRow, quietRow] = rowsUnder("Applications' health (last 7 days)");
    expect(greenRow).toMatch(/^4Bookinggreen0.*no risk found over the last 7 days$/);
    expect(quietRow).toBe('7Quietno data––no traffic nor events over the last 14 days');
  });

  it('asks for the team the rosetta.io/team-id annotation names', async () => {
    answerTeam('team-egret');
    await renderWithApi(<TeamCard />, group('egrets', { 'rosetta.io/team-id': ' team-egret ' }));
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
  });

  // A team whose applications run in staging too reads its staging figures when its Group says so, as an entity's
  // cards do: the SLO and DORA questions carry environment=staging, and the card says which environment it shows.
  // The API scores risk and health in production only and refuses the ranking elsewhere (422 on environment, as
  // below): the card says so, and does not call the annotation's environment invalid.
  it('reads the environment the rosetta.io/environment annotation names', async () => {
    const productionOnly = {
      errors: [{ parameter: 'environment', detail: 'metric=risk is computed for production only', allowed: ['production'] }],
    };
    server.use(
      problem('/risk/top', 422, 'Invalid environment', 'metric=risk is computed for production only', productionOnly),
      answer('/kpis/slo', egretSlo, { team: 'team-egret', environment: 'staging' }),
      answer('/kpis/dora', egretDora, { team: 'team-egret', environment: 'staging' }),
    );
    await renderWithApi(<TeamCard />, group('team-egret', { 'rosetta.io/environment': 'staging' }));
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
    expect(screen.getByText('Team team-egret, staging')).toBeInTheDocument();
    const health = screen.getByRole('heading', { name: "Applications' health (last 7 days)" }).closest('section')!;
    expect(await within(health).findByText('Health is judged in production only')).toBeInTheDocument();
    expect(within(health).getByText(/scores/)).toHaveTextContent(
      "The monitoring API scores the risk and health of applications in production only, not in staging (the Group's rosetta.io/environment annotation); the SLO and DORA rows below are staging's.",
    );
    expect(screen.queryByText('Not a valid environment')).not.toBeInTheDocument();
  });

  // An estate whose production is named prod (ROSETTA_PRODUCTION_ENVIRONMENT=prod): the API refuses the ranking in
  // staging naming prod as the one it scores in, and the card says prod, not a name the plugin would have guessed.
  it('says which environment the API judges health in, as the API names it', async () => {
    const prodOnly = { errors: [{ parameter: 'environment', detail: 'metric=risk is computed for prod only', allowed: ['prod'] }] };
    server.use(
      problem('/risk/top', 422, 'Invalid environment', 'metric=risk is computed for prod only', prodOnly),
      answer('/kpis/slo', egretSlo, { team: 'team-egret', environment: 'staging' }),
      answer('/kpis/dora', egretDora, { team: 'team-egret', environment: 'staging' }),
    );
    await renderWithApi(<TeamCard />, group('team-egret', { 'rosetta.io/environment': 'staging' }));
    const health = screen.getByRole('heading', { name: "Applications' health (last 7 days)" }).closest('section')!;
    expect(await within(health).findByText('Health is judged in prod only')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(screen.queryByText('Not a valid environment')).not.toBeInTheDocument();
  });

  // An environment no entry of the mapping is in (a typo: prod for production) is a 404 "Unknown environment" of every
  // question: the card says once that the Group's environment annotation is wrong, not that the team is unknown.
  it('says once that the environment the annotation names is unknown, naming the annotation', async () => {
    const unknown = "no entity is mapped in environment 'prod'; the mapping's environments are production, staging";
    for (const path of ['/risk/top', '/kpis/slo', '/kpis/dora']) {
      server.use(problem(path, 404, 'Unknown environment', unknown));
    }
    await renderWithApi(<TeamCard />, group('team-egret', { 'rosetta.io/environment': 'prod' }));
    expect(await screen.findByText('Not a valid environment')).toBeInTheDocument();
    expect(screen.getAllByText('Not a valid environment')).toHaveLength(1);
    expect(screen.getByText(/refuses this Group's environment/)).toHaveTextContent(
      `The monitoring API refuses this Group's environment: ${unknown}. Correct the Group's rosetta.io/environment annotation to an environment of the mapping (the API's production environment when it is not set).`,
    );
    expect(screen.queryByText('No mapping for this team')).not.toBeInTheDocument();
  });

  it('reads the period it is given', async () => {
    server.use(
      answer('/risk/top', egretRisks, { team: 'team-egret' }),
      answer('/kpis/slo', egretSlo, { team: 'team-egret', period: 'last_90d' }),
      answer('/kpis/dora', egretDora, { team: 'team-egret', period: 'last_90d' }),
    );
    await renderWithApi(<TeamCard period="last_90d" />, group('team-egret'));
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'DORA (last 90 days)' })).toBeInTheDocument();
  });

  // The API answers each of the three 404 "no team 'x' in the mapping": the card says it once, with what to set.
  it('says once that the team has no mapping, naming the annotation to set', async () => {
    for (const path of ['/risk/top', '/kpis/slo', '/kpis/dora']) {
      server.use(problem(path, 404, 'Unknown team', "no team 'egrets' in the mapping"));
    }
    await renderWithApi(<TeamCard />, group('egrets'));
    expect(await screen.findByText('No mapping for this team')).toBeInTheDocument();
    expect(screen.getAllByText('No mapping for this team')).toHaveLength(1);
    expect(screen.getByText(/does not know this team/)).toHaveTextContent(
      "(no team 'egrets' in the mapping)",
    );
    expect(screen.getByText(/does not know this team/)).toHaveTextContent("set the Group's rosetta.io/team-id annotation");
    expect(screen.queryByText('No mapping for this entity')).not.toBeInTheDocument();
  });

  // A Group's name is always an id the API takes: a refused one was set by the annotation.
  it('says when the API refuses the id the annotation sets', async () => {
    const refused = { errors: [{ parameter: 'team', in: 'query', detail: 'String should match pattern' }] };
    for (const path of ['/risk/top', '/kpis/slo', '/kpis/dora']) {
      server.use(problem(path, 422, 'Invalid team', 'team: String should match pattern', refused));
    }
    await renderWithApi(<TeamCard />, group('egrets', { 'rosetta.io/team-id': 'team/egret' }));
    expect(await screen.findByText('Not a valid team id')).toBeInTheDocument();
    expect(screen.getByText(/refuses this team's id/)).toHaveTextContent("Correct the Group's rosetta.io/team-id annotation");
  });

  it('shows the error of one part and the others as they are', async () => {
    answerTeam('team-egret');
    server.use(problem('/kpis/slo', 500, 'Internal error', 'the lake cannot be read'));
    await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText(/Could not load SLO figures: the lake cannot be read/)).toBeInTheDocument();
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
  });

  it('says when a part has nothing in the period', async () => {
    answerTeam('team-egret', { dora: { ...egretDora, items: [] } });
    await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText('No DORA figures in the period')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
  });

  it('reads a Group as a group of the mapping when rosetta.io/monitoring-level says so', async () => {
    answerAt('group', 'risk-it', { risks: riskItRisks, slo: levelSlo('group', 'risk-it'), dora: doraGroupRiskIt });
    await renderWithApi(<TeamCard />, group('risk-it', { 'rosetta.io/monitoring-level': 'group' }, 'department'));
    expect(await screen.findByText('Group monitoring')).toBeInTheDocument();
    expect(screen.getByText('Group risk-it')).toBeInTheDocument();
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    // Above a team, each application says its team.
    const risks = rowsUnder("Applications' health (last 7 days)");
    expect(risks).toHaveLength(2);
    expect(risks[0]).toMatch(/^1Profilesteam-egretorange25/);
    expect(risks[1]).toMatch(/^4Bookingteam-egretgreen0/);
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(rowsUnder('SLO (last 30 days)')[0]).toMatch(/^risk-it/);
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
    expect(rowsUnder('DORA (last 30 days)')[0]).toMatch(/^risk-it/);
    expect(screen.getAllByRole('columnheader', { name: 'Group' })).toHaveLength(2);
  });

  it("reads a domain by its level's id annotation, the other levels' ignored", async () => {
    answerAt('domain', 'commerce', { risks: riskItRisks, slo: levelSlo('domain', 'commerce'), dora: levelDora('domain', 'commerce') });
    const annotations = {
      'rosetta.io/monitoring-level': ' Domain ',
      'rosetta.io/domain-id': 'commerce',
      'rosetta.io/team-id': 'team-egret',
    };
    await renderWithApi(<TeamCard />, group('commerce-unit', annotations, 'business-unit'));
    expect(await screen.findByText('Domain monitoring')).toBeInTheDocument();
    expect(screen.getByText('Domain commerce')).toBeInTheDocument();
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
    expect(rowsUnder('DORA (last 30 days)')[0]).toMatch(/^commerce/);
  });

  it('says once that the group has no mapping, naming rosetta.io/group-id', async () => {
    for (const path of ['/risk/top', '/kpis/slo', '/kpis/dora']) {
      server.use(problem(path, 404, 'Unknown group', "no group 'risk' in the mapping"));
    }
    await renderWithApi(<TeamCard />, group('risk', { 'rosetta.io/monitoring-level': 'group' }, 'department'));
    expect(await screen.findByText('No mapping for this group')).toBeInTheDocument();
    expect(screen.getAllByText('No mapping for this group')).toHaveLength(1);
    const said = screen.getByText(/does not know this group/);
    expect(said).toHaveTextContent("(no group 'risk' in the mapping)");
    expect(said).toHaveTextContent("set the Group's rosetta.io/group-id annotation");
    expect(said).not.toHaveTextContent('rosetta.io/team-id');
  });

  // Nothing guesses a level from spec.type: a department is read as a team, and the 404 says how to read it otherwise.
  it('reads a department without the level annotation as a team, and says how to set its level', async () => {
    for (const path of ['/risk/top', '/kpis/slo', '/kpis/dora']) {
      server.use(problem(path, 404, 'Unknown team', "no team 'risk-it' in the mapping"));
    }
    await renderWithApi(<TeamCard />, group('risk-it', undefined, 'department'));
    expect(await screen.findByText('No mapping for this team')).toBeInTheDocument();
    expect(screen.getByText(/does not know this team/)).toHaveTextContent(
      'This Group is a department, read as a team: when it is a group or a domain of the mapping, set its rosetta.io/monitoring-level annotation to group or domain.',
    );
  });

  it('says when the API refuses the id rosetta.io/domain-id sets', async () => {
    const refused = { errors: [{ parameter: 'domain', in: 'query', detail: 'String should match pattern' }] };
    for (const path of ['/risk/top', '/kpis/slo', '/kpis/dora']) {
      server.use(problem(path, 422, 'Invalid domain', 'domain: String should match pattern', refused));
    }
    const annotations = { 'rosetta.io/monitoring-level': 'domain', 'rosetta.io/domain-id': 'commerce/eu' };
    await renderWithApi(<TeamCard />, group('commerce', annotations, 'domain'));
    expect(await screen.findByText('Not a valid domain id')).toBeInTheDocument();
    expect(screen.getByText(/refuses this domain's id/)).toHaveTextContent(
      "Correct the Group's rosetta.io/domain-id annotation to the domain's id in the mapping.",
    );
  });

  it('says when the level annotation names no level, without asking the API', async () => {
    const asked: string[] = [];
    const record = ({ request }: { request: Request }) => asked.push(request.url);
    server.events.on('request:start', record);
    try {
      await renderWithApi(<TeamCard />, group('risk-it', { 'rosetta.io/monitoring-level': 'department' }, 'department'));
      expect(await screen.findByText('Not a monitoring level')).toBeInTheDocument();
      expect(screen.getByText(/monitoring-level annotation says/)).toHaveTextContent(
        "The Group's rosetta.io/monitoring-level annotation says 'department': it names the level of the mapping this Group is, team, group or domain (team when it is not set).",
      );
      expect(screen.queryByText('Team monitoring')).not.toBeInTheDocument();
      expect(asked).toEqual([]);
    } finally {
      server.events.removeListener('request:start', record);
    }
  });

  // The card lists the first page of the ranking, 100 applications: a domain of 137 (the ranking's page.total counts
  // them) shows its 100 riskiest and says that the other 37 are left out.
  const hundredRisks = (total: number): RiskReport => ({
    ...f.riskTop,
    items: Array.from({ length: 100 }, (_, i) => ({ ...riskItRisks.items[0], rank: i + 1, appId: `app-${i + 1}`, appName: `App ${i + 1}` })),
    page: { limit: 100, nextCursor: total > 100 ? 'next' : null, total },
  });
  const commerceSlo = (applications: number): SloReport => ({
    ...levelSlo('domain', 'commerce'),
    items: [{ ...levelSlo('domain', 'commerce').items[0], applications }],
  });
  const commerce = group('commerce', { 'rosetta.io/monitoring-level': 'domain' }, 'domain');

  it('says that the ranking shows only the 100 riskiest of a larger domain', async () => {
    answerAt('domain', 'commerce', { risks: hundredRisks(137), slo: commerceSlo(137), dora: levelDora('domain', 'commerce') });
    await renderWithApi(<TeamCard />, commerce);
    expect(await screen.findByText('App 100')).toBeInTheDocument();
    expect(rowsUnder("Applications' health (last 7 days)")).toHaveLength(100);
    expect(await screen.findByText("Info: Only the 100 riskiest of the domain's 137 applications are shown")).toBeInTheDocument();
  });

  // The card has no period nor grouping to narrow: the ranking's own notice is the only one of the rows left out.
  it('says the ranking is cut once, with no advice to narrow a period or grouping it lacks', async () => {
    const dora = levelDora('domain', 'commerce');
    answerAt('domain', 'commerce', { risks: hundredRisks(137), slo: commerceSlo(137), dora });
    await renderWithApi(<TeamCard />, commerce);
    expect(await screen.findByText('App 100')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(screen.getAllByText(/Only the/).map(notice => notice.textContent)).toEqual([
      "Info: Only the 100 riskiest of the domain's 137 applications are shown",
    ]);
    expect(screen.queryByText(/to see the rest/)).not.toBeInTheDocument();
  });

  it('says nothing is left out when the domain holds exactly the 100 applications ranked', async () => {
    answerAt('domain', 'commerce', { risks: hundredRisks(100), slo: commerceSlo(100), dora: levelDora('domain', 'commerce') });
    await renderWithApi(<TeamCard />, commerce);
    expect(await screen.findByText('App 100')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(screen.queryByText(/riskiest/)).not.toBeInTheDocument();
  });

  it('counts the applications left out from the ranking itself when the SLO row does not come', async () => {
    answerAt('domain', 'commerce', { risks: hundredRisks(137), slo: commerceSlo(137), dora: levelDora('domain', 'commerce') });
    server.use(problem('/kpis/slo', 500, 'Internal error', 'the lake cannot be read'));
    await renderWithApi(<TeamCard />, commerce);
    expect(await screen.findByText(/Could not load SLO figures/)).toBeInTheDocument();
    expect(await screen.findByText("Info: Only the 100 riskiest of the domain's 137 applications are shown")).toBeInTheDocument();
  });

  // Each part's answer carries its freshness; stale, the card says it once, of the oldest: the SLO answer's 10 hours
  // (36,000 s over the 7,200 s threshold), not the risk ranking's 3 hours, nor the DORA answer's 21 minutes.
  it('says once for the card that its figures are stale, of the oldest part', async () => {
    const lagged = (lagSeconds: number) => ({ ...f.riskTop.freshness, lagSeconds });
    answerTeam('team-egret', {
      risks: { ...egretRisks, freshness: lagged(3 * 3600) },
      slo: { ...egretSlo, freshness: lagged(10 * 3600) },
      dora: { ...egretDora, freshness: lagged(1245) },
    });
    await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
    expect(screen.getAllByText(/Stale: figures are/)).toHaveLength(1);
    expect(screen.getByText(/Stale: figures are/)).toHaveTextContent(
      'Stale: figures are 10.0 h old (as of 2026-11-28 08:00:00 UTC)',
    );
  });

  // The tables have no title and no search: a toolbar above each would be an empty strip (MUI's Toolbar, which has no
  // role to find it by).
  it('shows its three tables without a toolbar above them', async () => {
    answerTeam('team-egret');
    const { container } = await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
    expect(screen.getAllByRole('table')).toHaveLength(3);
    expect(container.querySelectorAll('.MuiToolbar-root')).toHaveLength(0);
  });

  it('shows a loading state while the API answers', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>(resolve => (release = resolve));
    answerTeam('team-egret');
    server.use(
      http.get(`${API}/kpis/dora`, async () => {
        await held;
        return HttpResponse.json(egretDora);
      }),
    );
    await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    const dora = screen.getByRole('heading', { name: 'DORA (last 30 days)' }).closest('section')!;
    expect(await within(dora).findByRole('progressbar')).toBeInTheDocument();
    release();
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
  });
});

// The legacy card is placed by hand, with nothing filtering it by kind: on another kind than Group it says so without
// asking the API (an unanswered request fails the test).
describe('legacy team card', () => {
  registerServer();

  it('says a System is not a team', async () => {
    await renderWithApi(<LegacyTeamCard />, profilesSystem);
    expect(await screen.findByText('Not a team')).toBeInTheDocument();
  });

  it("shows a Group's team", async () => {
    answerTeam('team-egret');
    await renderWithApi(<LegacyTeamCard />, group('team-egret'));
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    expect(await screen.findByText('0.50/day · high, on 8 of 30 days')).toBeInTheDocument();
  });
});
