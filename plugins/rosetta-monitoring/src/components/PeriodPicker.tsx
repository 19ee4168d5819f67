
import { LabelledSelect } from './common/LabelledSelect';
import type { Period } from '../api/types';
import { PERIOD_LABELS } from './common/format';

export const ENTITY_PERIODS: readonly Period[] = ['last_24h', 'last_7d', 'last_30d', 'last_90d'];
const PERIODS = ENTITY_PERIODS.map(value => ({ label: PERIOD_LABELS[value], value }));

export function PeriodPicker({ period, onChange }: { period: Period; onChange: (p: Period) => void }) {
  return <LabelledSelect label="Period" items={PERIODS} selected={period} onChange={v => onChange(v as Period)} />;
}
