
import { Table, TableColumn } from '@backstage/core-components';
import type { DoraRow } from '../api/types';
import { decimal, GROUP_LABELS, hours, percent } from './common/format';
import { NO_TOOLBAR } from './common/tableOptions';

function level(value: string, lvl: string | null | undefined, state: string | null | undefined) {
  if (state && state !== 'ok') return `${value} (${state})`;
  return lvl ? `${value} · ${lvl}` : value;
}

/** The columns of a DORA report grouped by `groupBy`: the first names the rows (applications, teams, ...). */
const doraColumns = (groupBy: string): TableColumn<DoraRow>[] => [
  { title: GROUP_LABELS[groupBy] ?? groupBy, field: 'id' },
  {
    title: 'Deployment frequency',
    render: r => level(`${decimal(r.deploymentFrequencyPerDay)}/day`, r.deploymentFrequencyLevel, r.deploymentFrequencyState),
  },
  { title: 'Lead time (median)', render: r => level(hours(r.leadTimeMedianHours), r.leadTimeLevel, r.leadTimeState) },
  {
    title: 'Change failure rate',
    render: r => level(percent(r.changeFailureRate, 1), r.changeFailureLevel, r.changeFailureState),
  },
  { title: 'Recovery time (median)', render: r => level(hours(r.recoveryMedianHours), r.recoveryLevel, r.recoveryState) },
];

/** DORA metrics with their performance level, one row per app or group. */
export function DoraTable({ rows, groupBy }: { rows: DoraRow[]; groupBy: string }) {
  return (
    <Table<DoraRow>
      options={NO_TOOLBAR}
      columns={doraColumns(groupBy)}
      data={rows}
    />
  );
}
