import { ReactNode } from 'react';

export type StatusColour = 'green' | 'orange' | 'red' | 'grey' | 'blue';

const COLOURS: Record<StatusColour, string> = {
  green: '#2e7d32',
  orange: '#ef6c00',
  red: '#c62828',
  grey: '#757575',
  blue: '#1565c0',
};

/** A coloured status dot followed by its label, readable without the colour. */
export function StatusDot({ colour, children }: { colour: StatusColour; children: ReactNode }) {
  return (
    <span data-status={colour} style={{ display: 'inline-flex', alignItems: 'center', gap: 6 }}>
      <span aria-hidden style={{ width: 12, height: 12, borderRadius: 6, background: COLOURS[colour] }} />
      {children}
    </span>
  );
}

/** A budget's bar: red below a fifth left, orange below half. */
function meterColour(ratio: number): string {
  if (ratio < 0.2) return COLOURS.red;
  if (ratio < 0.5) return COLOURS.orange;
  return COLOURS.green;
}

/**
 * A horizontal bar filled to `ratio` (0..1). `valueText` is what a screen reader says of it: its value is clamped
 * to the bar, so a ratio outside it (an overspent budget) would otherwise be heard as 0 or 100.
 */
export function Meter({ ratio, label, valueText }: { ratio: number; label: string; valueText?: string }) {
  const clamped = Math.max(0, Math.min(1, ratio));
  const colour = meterColour(clamped);
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuenow={Math.round(clamped * 100)}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuetext={valueText}
    >
      <div style={{ height: 10, background: '#e0e0e0', borderRadius: 5 }}>
        <div style={{ width: `${clamped * 100}%`, height: 10, background: colour, borderRadius: 5 }} />
      </div>
    </div>
  );
}
