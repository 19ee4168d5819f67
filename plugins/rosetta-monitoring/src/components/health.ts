import type { Summary } from '../api/types';
import type { HealthThresholds } from '../options';
import { cutPercent, ms, percent } from './common/format';
import { readOnlyUpTo } from './common/readUntil';

export type HealthColour = 'red' | 'orange' | 'green' | 'no data' | 'unknown';

export interface HealthVerdict {
  colour: HealthColour;
  reasons: string[];
}

/** The API's verdicts (mv_monitoring_top_risks). */
const VERDICTS = ['red', 'orange', 'green', 'no data'];

/** Why a verdict comes without reasons: the API lists only the sentences that scored a risk. */
export const NO_REASON: Record<string, string> = {
  green: 'no risk found over the last 7 days',
  'no data': 'no traffic nor events over the last 14 days',
};

/**
 * The entity's health: the API's own verdict (applications) when there is one, otherwise
 * the golden signals and open incidents held against the configured thresholds (components).
 */
export function healthOf(summary: Summary, t: HealthThresholds): HealthVerdict {
  const risk = summary.risk;
  if (risk?.health) {
    const colour = (VERDICTS.includes(risk.health) ? risk.health : 'unknown') as HealthColour;
    return { colour, reasons: risk.reasons?.length ? risk.reasons : [NO_REASON[risk.health] ?? 'no reason reported'] };
  }
  const g = summary.goldenSignals;
  // Figures held against a threshold are cut, never rounded up to it: 4.996 % under a 5 % threshold reads 4.99 %.
  const rate = cutPercent(g.errorRate, 2);
  const p95 = g.latencyP95MaxMs;
  const latency = ms(p95 === null || p95 === undefined ? p95 : Math.floor(p95));
  const red: string[] = [];
  const orange: string[] = [];
  if (g.errorRate !== null && g.errorRate !== undefined) {
    if (g.errorRate >= t.errorRateCritical) red.push(`error rate ${rate} ≥ ${percent(t.errorRateCritical)}`);
    else if (g.errorRate >= t.errorRateWarning) orange.push(`error rate ${rate} ≥ ${percent(t.errorRateWarning)}`);
  }
  if (p95 !== null && p95 !== undefined) {
    if (p95 >= t.latencyP95CriticalMs) red.push(`latency p95 ${latency} ≥ ${ms(t.latencyP95CriticalMs)}`);
    else if (p95 >= t.latencyP95WarningMs) orange.push(`latency p95 ${latency} ≥ ${ms(t.latencyP95WarningMs)}`);
  }
  // Null counts: the entity's incidents are unknown, not none (see whyIncidentsUnknown).
  const { open, openP1P2 } = summary.incidents;
  if (openP1P2 !== null && openP1P2 > 0) red.push(`${openP1P2} open P1/P2 incident(s)`);
  else if (open !== null && open > 0) orange.push(`${open} open incident(s)`);
  if (red.length) return { colour: 'red', reasons: [...red, ...orange] };
  if (orange.length) return { colour: 'orange', reasons: orange };
  if (g.measuredHours === 0) return { colour: 'unknown', reasons: ['no measurement in the last 24 h'] };
  if (open === null) {
    return { colour: 'green', reasons: [`within thresholds; incidents unknown (${whyIncidentsUnknown(summary.incidents)})`] };
  }
  return { colour: 'green', reasons: ['within thresholds, no open incident'] };
}

/**
 * Why an entity's open incidents are unknown: ServiceNow never read, read only up to a time before the build's as-of
 * (ServiceNow down since: the backlog of now is unknown), or no ServiceNow CI of its own mapped to the entity in the
 * environment (a CI mapped in several environments is production's, else the first environment's by name).
 */
export function whyIncidentsUnknown(incidents: Summary['incidents']): string {
  if (incidents.state === 'not read') return "ServiceNow's incidents were never read";
  if (incidents.readUntil) return readOnlyUpTo("ServiceNow's incidents", incidents.readUntil);
  return 'no ServiceNow CI of its own is mapped to it in this environment';
}
