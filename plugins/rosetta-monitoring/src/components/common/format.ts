/** Display helpers; "–" stands for a figure the API does not have. */
export const NONE = '–';

export function percent(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? NONE : `${(value * 100).toFixed(digits)}%`;
}

export function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : `${Math.round(value)} ms`;
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : Math.round(value).toLocaleString('en-US');
}

export function hours(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : `${value.toFixed(1)} h`;
}

export function decimal(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? NONE : value.toFixed(digits);
}

export function when(value: string | null | undefined): string {
  return value ? value.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC') : NONE;
}
