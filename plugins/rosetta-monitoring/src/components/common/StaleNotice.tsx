import { WarningPanel } from '@backstage/core-components';
import type { Freshness } from '../../api/types';
import { useMonitoringOptions } from '../../options';
import { hours, when } from './format';
import { SOURCE_LABELS } from './sources';

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

/**
 * Names the widget's sources (`sources`, datasets as the API names them) read further behind the figures' as-of than
 * the staleness threshold: a source down (ServiceNow refusing, GitLab unreachable) while the builds go on leaves the
 * figures current but its part of them old, which nothing else on the widget says.
 */
export function SourcesNotice({ freshness, sources }: { freshness: Freshness; sources: readonly string[] }) {
  const { thresholds } = useMonitoringOptions();
  const behind = (freshness.sources ?? []).filter(
    s => sources.includes(s.dataset) && s.behindSeconds > thresholds.staleAfterSeconds,
  );
  if (behind.length === 0) return null;
  const named = behind.map(s => {
    const label = SOURCE_LABELS[s.dataset] ?? s.dataset;
    return `${label} up to ${when(s.readUntil)} (${hours(s.behindSeconds / 3600)} behind)`;
  });
  const title = `Read only ${named.join('; ')}: later events are not in these figures`;
  return <WarningPanel severity="warning" title={title} />;
}

/**
 * What a widget says of how current its figures are: stale, built under an older mapping, or some of its sources
 * (`sources`) read behind the rest.
 */
export function FreshnessNotices({ freshness, sources = [] }: { freshness: Freshness; sources?: readonly string[] }) {
  return (
    <>
      <StaleNotice freshness={freshness} />
      <SourcesNotice freshness={freshness} sources={sources} />
      <MappingNotice freshness={freshness} />
    </>
  );
}
