
import { WarningPanel } from '@backstage/core-components';
import type { Freshness } from '../../api/types';
import { useMonitoringOptions } from '../../options';
import { hours, when } from './format';

/** Warns when historized figures are older than the configured staleness threshold. */
export function StaleNotice({ freshness }: { freshness: Freshness }) {
  const { thresholds } = useMonitoringOptions();
  const lag = freshness.lagSeconds;
  if (lag === null || lag === undefined || lag <= thresholds.staleAfterSeconds) {
    return null;
  }
  return (
    <WarningPanel
      severity="warning"
      title={`Stale: figures are ${hours(lag / 3600)} old (as of ${freshness.asOf ? when(freshness.asOf) : 'unknown'})`}
    />
  );
}
