/** Display helpers; "–" stands for a figure the API does not have. */
export const NONE = '–';

/** A fraction in percent. A share too small to show in `digits` decimals reads "< 0.01%": rounded to 0.00 % it would
 * read as none (three errors in 200,000 requests are errors). */
export function percent(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return NONE;
  const smallest = 10 ** -digits;
  if (value > 0 && value * 100 < smallest / 2) return `< ${smallest.toFixed(digits)}%`;
  return `${(value * 100).toFixed(digits)}%`;
}

/**
 * A target in percent with the decimals it is set with, two at least and three at most: 99.5 % reads 99.50 %, five
 * nines 99.999 %, not the 100.00 % two decimals would round it to. A team's (group's, domain's) target weighs its
 * applications' and may need more, 2.89 / 3 = 96.3333… %: it is cut to three decimals, as the figures judged against
 * it are, so that one which met it never reads under it.
 */
export function target(value: number | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  return cutPercent(value, Math.max(2, percentDecimals(value)));
}

/** The decimals a share needs in percent to read as it is set (0.95: 0, 0.9995: 2 for 99.95 %), three at most. */
function percentDecimals(value: number): number {
  const scaled = value * 100;
  let digits = 0;
  while (digits < 3 && Math.abs(Number(scaled.toFixed(digits)) - scaled) > 1e-9) digits++;
  return digits;
}

/**
 * A share of good hours judged against a target, cut, with one decimal and as many as the target is set with (three
 * at most): 99.96 % against a 99.95 % target reads 99.96 %, where one decimal would cut it to 99.9 %, under the
 * target it met.
 */
export function sliPercent(value: number | null | undefined, goal: number | null | undefined): string {
  const digits = goal === null || goal === undefined ? 1 : Math.max(1, percentDecimals(goal));
  return cutPercent(value, digits);
}

/**
 * An availability in percent, cut and never rounded up, as the API's risk reasons give it: 99.9499 % against a
 * 99.95 % target reads 99.949 %, not the target it missed.
 */
export function availability(value: number | null | undefined, digits = 3): string {
  return cutPercent(value, digits);
}

/**
 * A share judged against a target (an SLI) in percent, cut and never rounded up: 94.96 % of good hours against a
 * 95 % target reads 94.9 %, not the target it missed.
 */
export function cutPercent(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined) return NONE;
  const scale = 10 ** digits;
  // The nudge keeps a figure such as 0.99812 (99811.999… once scaled) at 99.812.
  return `${(Math.floor(value * 100 * scale + 1e-6) / scale).toFixed(digits)}%`;
}

/**
 * The error budget left in percent, cut: 99.96 % left reads 99.9 %, not the untouched 100.0 %, and 0.04 % overspent
 * reads -0.1 %, not 0.0 % left. A sliver still left reads "< 0.1%", not spent.
 */
export function budgetLeft(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined) return NONE;
  const smallest = 10 ** -digits;
  if (value > 0 && value * 100 < smallest) return `< ${smallest.toFixed(digits)}%`;
  return cutPercent(value, digits);
}

export function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : `${Math.round(value)} ms`;
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : Math.round(value).toLocaleString('en-US');
}

/** A duration given in hours; under an hour in whole minutes, so that a few minutes do not read "0.0 h". */
export function hours(value: number | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  const minutes = Math.round(value * 60);
  return minutes < 60 ? `${minutes} min` : `${value.toFixed(1)} h`;
}

/**
 * A duration held against a performance level's bound (DORA's lead time, `< 24 h` elite, and recovery time, `< 1 h`
 * elite), cut and never rounded up to the bound it is under: 23.96 h reads 23.9 h, not 24.0 h, and 59.7 minutes
 * 59 min, not 1.0 h.
 */
export function cutHours(value: number | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  // The nudge keeps a figure such as 0.05 h (2.9999… minutes once scaled) at 3 min.
  const minutes = Math.floor(value * 60 + 1e-6);
  return minutes < 60 ? `${minutes} min` : `${(Math.floor(value * 10 + 1e-6) / 10).toFixed(1)} h`;
}

/**
 * A burn rate (errors over the error budget allowed), cut to two decimals and never rounded up to the bound it is
 * under: 1 spends exactly the budget, and the alerts fire over 1, 3, 6 and 14.4, so 0.9996 reads 0.99, not 1.00,
 * and 14.396 reads 14.39, not 14.40 beside an alert that did not fire. A rate too small for two decimals reads
 * "< 0.01": 0.00 would read as no error.
 */
export function burnRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  if (value > 0 && value < 0.01) return '< 0.01';
  // The nudge keeps a rate such as 0.29 (28.999… once scaled) at 0.29.
  return (Math.floor(value * 100 + 1e-6) / 100).toFixed(2);
}

export function decimal(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? NONE : value.toFixed(digits);
}

export function when(value: string | null | undefined): string {
  return value ? value.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC') : NONE;
}

/** The API's named periods as a person reads them. */
export const PERIOD_LABELS: Record<string, string> = {
  last_24h: 'Last 24 hours',
  last_7d: 'Last 7 days',
  last_30d: 'Last 30 days',
  last_90d: 'Last 90 days',
  month: 'This month',
  quarter: 'This quarter',
  previous_month: 'Previous month',
  previous_quarter: 'Previous quarter',
};

export function periodLabel(name: string | null | undefined): string {
  return name ? PERIOD_LABELS[name] ?? name : NONE;
}

/** What a KPI report's rows are, by its grouping: the heading of their first column. */
export const GROUP_LABELS: Record<string, string> = {
  app: 'Application',
  team: 'Team',
  group: 'Group',
  domain: 'Domain',
};
