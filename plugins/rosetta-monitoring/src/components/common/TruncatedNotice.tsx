import { WarningPanel } from '@backstage/core-components';

interface Listing {
  items?: unknown[];
  page?: { nextCursor?: string | null };
}

/**
 * The lists in a widget's value (one list, or several fetched together) that still had pages when the
 * client stopped reading (see MonitoringClient.getAll): their shown rows, or null when every list is whole.
 */
export function shownOfTruncated(value: unknown): number | null {
  const lists = (Array.isArray(value) ? value : [value]) as (Listing | null | undefined)[];
  const truncated = lists.filter(list => list?.page?.nextCursor);
  return truncated.length ? truncated.reduce((rows, list) => rows + (list?.items?.length ?? 0), 0) : null;
}

/**
 * The advice of the widgets on an entity's tab, whose only control is the tab's period: a shorter one lists fewer rows.
 */
export const SHORTER_PERIOD = 'choose a shorter period';

/**
 * Says that a list shows only its first rows, so that a total read off it is not taken for the whole, and what the
 * widget's controls offer to see the rest (`toSeeTheRest`); no advice when they offer none.
 */
export function TruncatedNotice({ value, toSeeTheRest }: { value: unknown; toSeeTheRest?: string }) {
  const shown = shownOfTruncated(value);
  if (shown === null) {
    return null;
  }
  const advice = toSeeTheRest ? `: ${toSeeTheRest} to see the rest` : '';
  return <WarningPanel severity="info" title={`Only the first ${shown.toLocaleString('en')} rows are shown${advice}`} />;
}
