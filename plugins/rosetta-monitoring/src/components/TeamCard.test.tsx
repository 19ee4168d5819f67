import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import type { Entity } from '@backstage/catalog-model';
import { API, answer, problem, profilesSystem, registerServer, renderWithApi, server } from '../testing/monitoringServer';
import * as f from '../testing/fixtures';
import type { DoraReport, RiskReport, SloReport } from '../api/types';
import { TeamCard } from './TeamCard';
import { LegacyTeamCard } from '../legacyComponents';

const group = (name: string, annotations?: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name, ...(annotations && { annotations }) },
  spec: { type: 'team', children: [] },
});

/*
 * team-egret's answers, cut from the recorded ones: its applications in the risk ranking, profiles (rank 1 in the
 * estate, orange, 3 incidents and a failed change over 7 days) then booking (rank 4, green); its SLO row (99.812 %
 * against 99.5 %, met); its DORA row, the recorded risk-it group's figures as the team's (0.5 deployment a day, high).
 */
const egretRisks: RiskReport = { ...f.riskTop, items: f.riskTop.items.filter(r => r.team === 'team-egret') };
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

  it("asks for the team by the Group's name and shows its applications' health, riskiest first, its SLO and DORA", async () => {
    answerTeam('team-egret');
    await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    const risks = rowsUnder("Applications' health (last 7 days)");
    expect(risks).toHaveLength(2);
    expect(risks[0]).toMatch(/^1Profilesorange25.*3 incidents in 7 days; 1 failed change\(s\) in 7 days$/);
    expect(risks[1]).toMatch(/^4Bookinggreen0/);
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(rowsUnder('SLO (last 30 days)')).toHaveLength(1);
    expect(await screen.findByText('0.50/day · high')).toBeInTheDocument();
    expect(rowsUnder('DORA (last 30 days)')[0]).toMatch(/^team-egret/);
  });

  it('asks for the team the rosetta.io/team-id annotation names', async () => {
    answerTeam('team-egret');
    await renderWithApi(<TeamCard />, group('egrets', { 'rosetta.io/team-id': ' team-egret ' }));
    expect(await screen.findByText('Profiles')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
    expect(await screen.findByText('0.50/day · high')).toBeInTheDocument();
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
      server.use(problem(path, 422, 'Invalid request', 'team: String should match pattern', refused));
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
    expect(await screen.findByText('0.50/day · high')).toBeInTheDocument();
  });

  it('says when a part has nothing in the period', async () => {
    answerTeam('team-egret', { dora: { ...egretDora, items: [] } });
    await renderWithApi(<TeamCard />, group('team-egret'));
    expect(await screen.findByText('No DORA figures in the period')).toBeInTheDocument();
    expect(await screen.findByText('99.812% · met')).toBeInTheDocument();
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
    expect(await screen.findByText('0.50/day · high')).toBeInTheDocument();
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
    expect(await screen.findByText('0.50/day · high')).toBeInTheDocument();
  });
});
