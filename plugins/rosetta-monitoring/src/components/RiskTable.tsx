import { TableColumn } from '@backstage/core-components';
import { NamedTable } from './common/NamedTable';
import type { RiskRow } from '../api/types';
import { availability, NONE } from './common/format';
import { NO_REASON } from './health';
import { StatusColour, StatusDot } from './common/StatusDot';
import { NO_TOOLBAR } from './common/tableOptions';

const DOT: Record<string, StatusColour> = { green: 'green', orange: 'orange', red: 'red' };

const health = (r: RiskRow) => <StatusDot colour={DOT[r.health ?? ''] ?? 'grey'}>{r.health ?? NONE}</StatusDot>;

/** An application without data has no risk measured: its score of 0 is the sum of no finding, not a zero risk. */
const score = (r: RiskRow) => (r.health === 'no data' || r.riskScore === null || r.riskScore === undefined ? NONE : r.riskScore);

/** The sentences behind the score, or why there are none (as the health card says it). */
const reasons = (r: RiskRow) => (r.reasons?.length ? r.reasons.join('; ') : NO_REASON[r.health ?? ''] ?? '');

const columns = (withTeam: boolean): TableColumn<RiskRow>[] => [
  // Unknown (no rank, an application without an owner in the mapping) reads "–", not an empty cell.
  { title: 'Rank', render: r => r.rank ?? NONE },
  { title: 'Application', render: r => r.appName ?? r.appId },
  ...(withTeam ? [{ title: 'Team', render: r => r.team ?? NONE } as TableColumn<RiskRow>] : []),
  { title: 'Health', render: health },
  { title: 'Score', render: score },
  { title: 'Availability 7d', render: r => availability(r.availability7D) },
  { title: 'Reasons', render: reasons },
];

/** Applications by risk over the last 7 days, riskiest first, each with its rank in the estate and the reasons. */
export function RiskTable({ rows, withTeam = true }: { rows: RiskRow[]; withTeam?: boolean }) {
  return (
    <NamedTable<RiskRow>
      name="Applications by risk"
      options={NO_TOOLBAR}
      columns={columns(withTeam)}
      data={rows}
    />
  );
}
