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

/**
 * Says when the figures were attributed under an older mapping than the one the answer was resolved with: after an
 * admin changes the mapping, until the next build, an application just onboarded (or a component just moved) has
 * the previous mapping's figures, often none, which would otherwise read as a quiet application.
 */
export function MappingNotice({ freshness }: { freshness: Freshness }) {
  const built = freshness.buildMappingVersion;
  const current = freshness.mappingVersion;
  if (built === null || built === undefined || current === null || current === undefined || built >= current) {
    return null;
  }
  return (
    <WarningPanel
      severity="info"
      title={`Figures predate mapping v${current} (built under v${built}): they follow the next build`}
    />
  );
}

/** What a widget says of how current its figures are: stale, or built under an older mapping. */
export function FreshnessNotices({ freshness }: { freshness: Freshness }) {
  return (
    <>
      <StaleNotice freshness={freshness} />
      <MappingNotice freshness={freshness} />
    </>
  );
}
