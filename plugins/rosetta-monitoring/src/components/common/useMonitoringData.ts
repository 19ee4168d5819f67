import { useCallback, useSyncExternalStore } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import { MonitoringApi, monitoringApiRef } from '../../api/MonitoringApi';
import { Missing, missingFrom } from './problems';

export type DataState<T> =
  | { status: 'loading' }
  /** askedAgainAt: when the widget asks again by itself (epoch ms), when it waits as the API asked. */
  | { status: 'error'; error: Error; askedAgainAt?: number }
  | { status: 'ready'; value: T };

/**
 * What a widget reads: the API call it makes and its arguments, e.g. ['summary', level, id, environment]. The widgets
 * of a page that give the same key share one request, one answer and one timer; a key that changes is read anew.
 */
export type DataKey = readonly [string, ...unknown[]];

/**
 * An answer that waits (a 503 with Retry-After, or one that waits for the next build) is asked again after its
 * Retry-After, FIRST_ASK_MAX_S at most (the API's check interval may be an hour, the build sooner), then twice as long
 * each time, LONGEST_ASK_S at most.
 */
const FIRST_ASK_MAX_S = 300;
const LONGEST_ASK_S = 1800;

/**
 * A short wait on the data (SHORT_WAIT_S at most: a cold start's copy loading, a build landing) is asked again after
 * its Retry-After SHORT_ASKS times before the waits grow. The widget says it waits from the first answer on.
 */
const SHORT_WAIT_S = 30;
const SHORT_ASKS = 3;

/**
 * An open page asks again this often, so that it follows the builds; an unchanged answer is then a 304 (the API's
 * ETag) and draws nothing again.
 */
export const REFRESH_S = 300;

const LOADING: DataState<never> = { status: 'loading' };

/** The seconds a wait asks for before asking again, as the API says it; undefined: the answer is no wait. */
function waitOf(missing: Missing | undefined): number | undefined {
  if (missing?.kind === 'nextBuild') return missing.retryAfterS ?? FIRST_ASK_MAX_S;
  if (missing?.kind === 'notBuilt' || missing?.kind === 'unavailable') return missing.retryAfterS;
  return undefined;
}

/** The seconds to wait before asking again after `error`, waited `waits` times in a row; undefined: no wait. */
function askAgainAfter(error: Error, waits: number): number | undefined {
  const missing = missingFrom(error);
  const said = waitOf(missing);
  if (said === undefined) return undefined;
  const first = Math.max(1, Math.min(said, FIRST_ASK_MAX_S));
  // A short wait on the data is first asked again as said; a build's wait grows at once (it may be hours away).
  const short = missing?.kind === 'unavailable' && said <= SHORT_WAIT_S;
  const grown = short ? Math.max(0, waits - SHORT_ASKS) : waits;
  return Math.min(first * 2 ** grown, LONGEST_ASK_S);
}

/** Whether two answers hold the same figures: the same objects (a 304 gives back the one shown), or equal ones. */
function sameAnswer(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  const other = b as Record<string, unknown>;
  return (
    keys.length === Object.keys(b).length &&
    keys.every(k => k in other && sameAnswer((a as Record<string, unknown>)[k], other[k]))
  );
}

type Load = (api: MonitoringApi) => Promise<unknown>;

/** One key's answer, shared by the widgets that show it, asked again by one timer while any of them is shown. */
class SharedRead {
  state: DataState<unknown> = LOADING;
  private readonly widgets = new Set<() => void>();
  /** The waits asked for in a row: each is twice as long as the one before. */
  private waits = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dropped = false;

  constructor(
    private readonly api: MonitoringApi,
    private readonly load: Load,
    private readonly drop: () => void,
  ) {}

  /** Adds a widget to be told of a new state; the first asks. Returns how to take it away again. */
  subscribe(changed: () => void): () => void {
    this.widgets.add(changed);
    if (this.widgets.size === 1) this.ask();
    return () => {
      this.widgets.delete(changed);
      if (this.widgets.size > 0) return;
      // The last widget is gone: nothing more is asked, and an answer still on its way is left unread.
      this.dropped = true;
      clearTimeout(this.timer);
      document.removeEventListener('visibilitychange', this.askOnceShown);
      this.drop();
    };
  }

  private ask() {
    this.load(this.api).then(
      value => this.answered(value),
      error => this.failed(error),
    );
  }

  private answered(value: unknown) {
    if (this.dropped) return;
    this.waits = 0;
    // The same figures (a 304 above all): the widgets are not drawn again.
    if (this.state.status !== 'ready' || !sameAnswer(this.state.value, value)) this.show({ status: 'ready', value });
    this.askAgainIn(REFRESH_S);
  }

  private failed(error: Error) {
    if (this.dropped) return;
    const wait = askAgainAfter(error, this.waits);
    if (wait !== undefined) this.waits += 1;
    // Figures already shown stay (their freshness says how old they are) rather than give way to a failed refresh.
    // A widget that waits keeps saying what for while it asks again: no spinner in between. Each answer renews when.
    const askedAgainAt = wait === undefined ? undefined : Date.now() + wait * 1000;
    if (this.state.status !== 'ready') this.show({ status: 'error', error, askedAgainAt });
    this.askAgainIn(wait ?? REFRESH_S);
  }

  private show(state: DataState<unknown>) {
    this.state = state;
    this.widgets.forEach(changed => changed());
  }

  /** Asks again in `seconds`; a hidden page (another browser tab) asks nothing till it is shown again. */
  private askAgainIn(seconds: number) {
    this.timer = setTimeout(() => {
      if (document.visibilityState === 'hidden') {
        document.addEventListener('visibilitychange', this.askOnceShown);
      } else {
        this.ask();
      }
    }, seconds * 1000);
  }

  private readonly askOnceShown = () => {
    if (document.visibilityState === 'hidden') return;
    document.removeEventListener('visibilitychange', this.askOnceShown);
    this.ask();
  };
}

/** The reads shown now, by API client (each test, each app its own) and key. */
const shown = new WeakMap<MonitoringApi, Map<string, SharedRead>>();

function readsOf(api: MonitoringApi): Map<string, SharedRead> {
  let reads = shown.get(api);
  if (!reads) {
    reads = new Map();
    shown.set(api, reads);
  }
  return reads;
}

function readOf(api: MonitoringApi, id: string, load: Load): SharedRead {
  const reads = readsOf(api);
  let read = reads.get(id);
  if (!read) {
    read = new SharedRead(api, load, () => reads.delete(id));
    reads.set(id, read);
  }
  return read;
}

/**
 * Loads one answer of the monitoring API for a widget, shared with the widgets of the page that read the same `key`;
 * reads again when the key changes, when a wait the API asked for is over, and every REFRESH_S while the page is shown.
 */
export function useMonitoringData<T>(load: (api: MonitoringApi) => Promise<T>, key: DataKey): DataState<T> {
  const api = useApi(monitoringApiRef);
  const id = JSON.stringify(key);
  // `load` reads what the key names: a new function for the same key reads the same.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const subscribe = useCallback((changed: () => void) => readOf(api, id, load).subscribe(changed), [api, id]);
  const state = useSyncExternalStore(subscribe, () => readsOf(api).get(id)?.state ?? LOADING);
  return state as DataState<T>;
}
