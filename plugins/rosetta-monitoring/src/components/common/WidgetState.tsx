import { CSSProperties, ReactNode, useEffect, useReducer } from 'react';
import { EmptyState, InfoCard, Progress, ResponseErrorPanel } from '@backstage/core-components';
import type { DataState } from './useMonitoringData';
import { detailOf, missingFrom } from './problems';
import { FreshnessNotices } from './StaleNotice';
import { TruncatedNotice } from './TruncatedNotice';
import type { Freshness } from '../../api/types';
import { ReadUntil, ReadUntilNotice } from './readUntil';

export interface WidgetProps<T> {
  title: string;
  state: DataState<T>;
  /** What the widget shows, for the "no data in the period" message, e.g. "incidents". */
  what: string;
  isEmpty?: (value: T) => boolean;
  /** Why nothing of this kind can be known (the entity is tied to no source of it, or the lake never read it, as the
   * API says), else null. */
  unknown?: (value: T) => Unknown | null;
  freshness?: (value: T) => Freshness | undefined;
  /** How far the list's source was read when a day it covers lies after that (the API's `readUntil`), else null:
   * what came later is unknown, so an empty list says so rather than that there is none. */
  readUntil?: (value: T) => ReadUntil | null;
  /** The datasets the figures rest on (see ./sources): one read further behind than the staleness threshold is named. */
  sources?: readonly string[];
  children: (value: T) => ReactNode;
  deepLink?: { title: string; link: string };
  /** Where the widget is: an entity's page (its annotations choose the environment) or an estate page (its picker). */
  page?: 'entity' | 'estate';
  /** The content says itself that its list is cut (the team card's ranking): no second, generic notice. */
  saysItsCut?: boolean;
  /** What the widget's controls offer to see the rows of a list cut after the pages the client reads (`choose a
   * shorter period`); the notice gives no advice without it, rather than one the widget has no control for. */
  toSeeTheRest?: string;
}

/**
 * What a widget of incidents or changes says for an entity the mapping ties to no ServiceNow CI of its own in the
 * environment (a CI mapped in several environments gives its records to production's entry, else the first's by name).
 */
export const SERVICENOW_NOT_MAPPED =
  'No ServiceNow CI of its own is mapped to this entity in this environment (servicenow.ciId or cmdb.ciName; ' +
  "a CI mapped in several environments is production's, else the first environment's by name), so none can be " +
  'found: unknown, not none.';

/** What a widget says when the lake has never read the records it lists (the source not configured, or not run). */
export const neverRead = (records: string) =>
  `Rosetta Monitoring has never read ${records} (the source is not configured, or its ingest has not run yet): unknown, not none.`;

/** Why a widget's records are unknown, as the API's state says, and the words for it. */
export type Unknown = { state: 'not mapped' | 'not read'; why: string };

/** What a widget says for an entity whose records of a kind are unknown: not mapped, or never read. */
export function whyUnknown(state: string, notMapped: string, records: string): Unknown | null {
  if (state === 'not mapped') return { state, why: notMapped };
  if (state === 'not read') return { state, why: neverRead(records) };
  return null;
}

/** What a widget of deployments says for an entity the mapping ties to no ArgoCD application nor GitLab project. */
export const DEPLOYER_NOT_MAPPED =
  'No ArgoCD application nor GitLab project is mapped to this entity, so no deployment can be found: unknown, not none.';

/** Out of sight, still read by a screen reader. */
const VISUALLY_HIDDEN: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
};

/**
 * A widget's state in a live region: it replaces the widget's content without moving the focus, so a screen reader
 * hears of it only from there. Errors need none: Backstage's error panel is an alert.
 */
export function Announced({ children }: { children: ReactNode }) {
  return <div role="status">{children}</div>;
}

/** The seconds left of a wait in words: whole seconds under a minute, else whole minutes, rounded up as a countdown. */
function leftInWords(seconds: number): string {
  return seconds < 60 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

/** The milliseconds till what leftInWords says of `leftMs` changes: a second under a minute, else up to a minute. */
function tillNextChange(leftMs: number): number {
  const seconds = Math.ceil(leftMs / 1000);
  const shownFrom = seconds <= 60 ? seconds - 1 : (Math.ceil(seconds / 60) - 1) * 60;
  return leftMs - shownFrom * 1000;
}

/** The time of day of `at` (epoch ms), in UTC as every time the plugin shows. */
const clockOf = (at: number) => `${new Date(at).toISOString().slice(11, 19)} UTC`;

/**
 * When the widget asks again by itself: counted down, and at what time. A screen reader hears the time alone, once:
 * the live region would read the countdown out at each change.
 */
function AskedAgain({ at }: { at: number }) {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const leftMs = at - Date.now();
  useEffect(() => {
    if (leftMs <= 0) return undefined;
    const timer = setTimeout(redraw, tillNextChange(leftMs));
    return () => clearTimeout(timer);
  });
  if (leftMs <= 0) return <>; asking again now</>;
  return (
    <>
      ; asked again <span aria-hidden="true">in {leftInWords(Math.ceil(leftMs / 1000))}, </span>at {clockOf(at)}
    </>
  );
}

/** What the widget waits for, and when it asks again by itself if it does. */
function Wait({ what, state }: { what: ReactNode; state: { askedAgainAt?: number } }) {
  return (
    <>
      {what}
      {state.askedAgainAt !== undefined && <AskedAgain at={state.askedAgainAt} />}.
    </>
  );
}

/** One dashboard widget: a card with its own loading, empty, error and stale states. */
export function Widget<T>(props: WidgetProps<T>) {
  const { title, state, what, isEmpty, unknown, freshness, readUntil, sources, children, deepLink, page } = props;
  const { saysItsCut, toSeeTheRest } = props;
  return (
    <InfoCard title={title} deepLink={deepLink}>
      <WidgetBody
        state={state}
        what={what}
        isEmpty={isEmpty}
        unknown={unknown}
        freshness={freshness}
        readUntil={readUntil}
        sources={sources}
        page={page}
        saysItsCut={saysItsCut}
        toSeeTheRest={toSeeTheRest}
      >
        {children}
      </WidgetBody>
    </InfoCard>
  );
}

export function WidgetBody<T>(props: Omit<WidgetProps<T>, 'title' | 'deepLink'>) {
  const { state, what, isEmpty, unknown, freshness, readUntil, sources, children } = props;
  const { page = 'entity', saysItsCut = false, toSeeTheRest } = props;
  if (state.status === 'loading') {
    return (
      <Announced>
        <span style={VISUALLY_HIDDEN}>Loading {what}…</span>
        <Progress aria-label={`Loading ${what}`} />
      </Announced>
    );
  }
  if (state.status === 'error') {
    const missing = missingFrom(state.error);
    if (missing?.kind === 'mapping') {
      return (
        <Announced>
          <EmptyState
            missing="field"
            title="No mapping for this entity"
            description={`The monitoring API has no mapping for this entity (${missing.detail}). Add it to the mapping table, or set the rosetta.io/app-id or rosetta.io/environment annotation.`}
          />
        </Announced>
      );
    }
    if (missing?.kind === 'pivot') {
      return (
        <Announced>
          <EmptyState
            missing="field"
            title={missing.title}
            description={`The entity is mapped, but ${missing.detail}. Add it to the entity's mapping entry (for the logs, the rosetta.io/elisa-index annotation).`}
          />
        </Announced>
      );
    }
    if (missing?.kind === 'id') {
      return (
        <Announced>
          <EmptyState
            missing="field"
            title="Not a valid entity id"
            description={`The monitoring API refuses this entity's id: ${missing.detail}. Correct the entity's rosetta.io/app-id annotation (or the former rosetta.io/monitoring-id) to its id in the mapping.`}
          />
        </Announced>
      );
    }
    if (missing?.kind === 'environment') {
      return (
        <Announced>
          <EmptyState
            missing="field"
            title="Not a valid environment"
            description={page === 'estate' ? `The monitoring API refuses the environment asked for: ${missing.detail}. Choose one of the environments the picker lists.` : `The monitoring API refuses this entity's environment: ${missing.detail}. Correct the entity's rosetta.io/environment annotation to an environment of the mapping (the API's production environment when it is not set).`}
          />
        </Announced>
      );
    }
    if (missing?.kind === 'notBuilt') {
      const figures = `The monitoring API has no figures yet (${missing.detail})`;
      const comes = `${figures}: they come with its first aggregate build`;
      return (
        <Announced>
          <EmptyState missing="data" title="No data yet" description={<Wait what={comes} state={state} />} />
        </Announced>
      );
    }
    if (missing?.kind === 'nextBuild') {
      return (
        <Announced>
          <EmptyState
            missing="info"
            title="Waiting for the next build"
            description={<Wait what={missing.detail} state={state} />}
          />
        </Announced>
      );
    }
    if (missing?.kind === 'unavailable') {
      return (
        <Announced>
          <EmptyState
            missing="info"
            title="Waiting for the monitoring API"
            description={<Wait what={missing.detail} state={state} />}
          />
        </Announced>
      );
    }
    if (missing?.kind === 'source') {
      return (
        <Announced>
          <EmptyState
            missing="info"
            title="Source not configured"
            description={`The monitoring API cannot answer: ${missing.detail}`}
          />
        </Announced>
      );
    }
    return <ResponseErrorPanel error={state.error} title={`Could not load ${what}: ${detailOf(state.error)}`} />;
  }
  const value = state.value;
  const fresh = freshness?.(value);
  const unknownState = unknown?.(value);
  const readPart = readUntil?.(value) ?? null;
  if (unknownState) {
    return (
      <>
        {fresh && <FreshnessNotices freshness={fresh} sources={sources} />}
        <Announced>
          <EmptyState
            missing="field"
            title={unknownState.state === 'not read' ? `No ${what} read yet` : `No source of ${what} mapped`}
            description={unknownState.why}
          />
        </Announced>
      </>
    );
  }
  if (isEmpty?.(value) && readPart) {
    // None listed up to the time read, and after it unknown: not "none in the period".
    return (
      <>
        {fresh && <FreshnessNotices freshness={fresh} sources={sources} />}
        <Announced>
          <ReadUntilNotice readUntil={readPart} />
        </Announced>
      </>
    );
  }
  if (isEmpty?.(value)) {
    return (
      <>
        {fresh && <FreshnessNotices freshness={fresh} sources={sources} />}
        <Announced>
          <EmptyState
            missing="data"
            title={`No ${what} in the period`}
            description={`The monitoring API has no ${what} for this period.`}
          />
        </Announced>
      </>
    );
  }
  return (
    <>
      {fresh && <FreshnessNotices freshness={fresh} sources={sources} />}
      {readPart && <ReadUntilNotice readUntil={readPart} />}
      {!saysItsCut && <TruncatedNotice value={value} toSeeTheRest={toSeeTheRest} />}
      {children(value)}
    </>
  );
}
