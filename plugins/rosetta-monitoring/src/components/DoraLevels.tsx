
import { Table, TableColumn } from '@backstage/core-components';
import type { DoraRow } from '../api/types';
import { decimal, hours, percent } from './common/format';

function level(value: string, lvl: string | null | undefined, state: string | null | undefined) {
  if (state && state !== 'ok') return `${value} (${state})`;
  return lvl ? `${value} · ${lvl}` : value;
}

export const DORA_COLUMNS: TableColumn<DoraRow>[] = [
  { title: 'Id', field: 'id' },
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
export function DoraTable({ rows, title }: { rows: DoraRow[]; title?: string }) {
  return (
    <Table<DoraRow>
      title={title}
      options={{ paging: false, search: false, padding: 'dense' }}
      columns={DORA_COLUMNS}
      data={rows}
    />
  );
}
