
import { Select } from '@backstage/core-components';
import type { Period } from '../api/types';

const PERIODS: { label: string; value: Period }[] = [
  { label: 'Last 24 hours', value: 'last_24h' },
  { label: 'Last 7 days', value: 'last_7d' },
  { label: 'Last 30 days', value: 'last_30d' },
  { label: 'Last 90 days', value: 'last_90d' },
];

export function PeriodPicker({ period, onChange }: { period: Period; onChange: (p: Period) => void }) {
  return <Select label="Period" items={PERIODS} selected={period} onChange={v => onChange(v as Period)} />;
}
