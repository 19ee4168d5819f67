import { Table, TableColumn } from '@backstage/core-components';
import type { RiskRow } from '../api/types';
import { availability } from './common/format';
import { StatusColour, StatusDot } from './common/StatusDot';
import { NO_TOOLBAR } from './common/tableOptions';

const DOT: Record<string, StatusColour> = { green: 'green', orange: 'orange', red: 'red' };

const health = (r: RiskRow) => <StatusDot colour={DOT[r.health ?? ''] ?? 'grey'}>{r.health ?? '–'}</StatusDot>;

const columns = (withTeam: boolean): TableColumn<RiskRow>[] => [
  { title: 'Rank', field: 'rank' },
  { title: 'Application', render: r => r.appName ?? r.appId },
  ...(withTeam ? [{ title: 'Team', field: 'team' } as TableColumn<RiskRow>] : []),
  { title: 'Health', render: health },
  { title: 'Score', field: 'riskScore' },
  { title: 'Availability 7d', render: r => availability(r.availability7D) },
  { title: 'Reasons', render: r => (r.reasons ?? []).join('; ') },
];

/** Applications by risk over the last 7 days, riskiest first, each with its rank in the estate and the reasons. */
export function RiskTable({ rows, withTeam = true }: { rows: RiskRow[]; withTeam?: boolean }) {
  return (
    <Table<RiskRow>
      options={NO_TOOLBAR}
      columns={columns(withTeam)}
      data={rows}
    />
  );
}
