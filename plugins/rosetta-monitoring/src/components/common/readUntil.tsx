import { WarningPanel } from '@backstage/core-components';
import { when } from './format';

/**
 * A list read only up to a time (the API's `readUntil`: its source down since, a day the answer covers lies wholly
 * after it): what the list calls its records ("ServiceNow's incidents") and that time.
 */
export interface ReadUntil {
  records: string;
  at: string;
}

/** "ServiceNow's incidents read only up to 2026-11-27 23:50:00 UTC", as the health card says it too. */
export function readOnlyUpTo(records: string, at: string): string {
  return `${records} read only up to ${when(at)}`;
}

/** How far the lists of one source were read: the earliest `readUntil` any of them gives, else null. */
export function readUntilOf(records: string, ...lists: { readUntil?: string | null }[]): ReadUntil | null {
  const times = lists.map(list => list.readUntil).filter((at): at is string => !!at);
  if (times.length === 0) return null;
  const at = times.reduce((earliest, t) => (Date.parse(t) < Date.parse(earliest) ? t : earliest));
  return { records, at };
}

/** What a count or an empty table of such a list adds: as far as it was read ('' when read whole). */
export function asRead(readUntil: ReadUntil | null): string {
  return readUntil ? ` as read up to ${when(readUntil.at)}` : '';
}

/** Says that what came after the time a list was read up to is unknown: an empty list or a 0 is not none there. */
export function ReadUntilNotice({ readUntil }: { readUntil: ReadUntil }) {
  const said = readOnlyUpTo(readUntil.records, readUntil.at);
  const title = `${said.charAt(0).toUpperCase()}${said.slice(1)}: later ones unknown`;
  return <WarningPanel severity="warning" title={title} />;
}
