import { useEffect, useState, DependencyList } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import { MonitoringApi, monitoringApiRef } from '../../api/MonitoringApi';
import { missingFrom } from './problems';

export type DataState<T> =
  | { status: 'loading' }
  /** askedAgainInS: the seconds until the widget asks again by itself, when it will. */
  | { status: 'error'; error: Error; askedAgainInS?: number }
  | { status: 'ready'; value: T };

/**
 * An answer that waits for the next build is asked again after its Retry-After, FIRST_ASK_MAX_S at most (the API's
 * check interval may be an hour, the build sooner), then twice as long each time, LONGEST_ASK_S at most.
 */
const FIRST_ASK_MAX_S = 300;
const LONGEST_ASK_S = 1800;

/** The seconds to wait before asking again after `error`, asked `asked` times already; undefined: not asked again. */
function askAgainAfter(error: Error, asked: number): number | undefined {
  const missing = missingFrom(error);
  if (missing?.kind !== 'nextBuild') return undefined;
  const first = Math.max(1, Math.min(missing.retryAfterS ?? FIRST_ASK_MAX_S, FIRST_ASK_MAX_S));
  return Math.min(first * 2 ** asked, LONGEST_ASK_S);
}

/** Loads one answer of the monitoring API for a widget; reloads when deps change, or when the next build may answer. */
export function useMonitoringData<T>(
  load: (api: MonitoringApi) => Promise<T>,
  deps: DependencyList,
): DataState<T> {
  const api = useApi(monitoringApiRef);
  const [state, setState] = useState<DataState<T>>({ status: 'loading' });
  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = (asked: number) =>
      load(api).then(
        value => current && setState({ status: 'ready', value }),
        error => {
          if (!current) return;
          const wait = askAgainAfter(error, asked);
          setState({ status: 'error', error, askedAgainInS: wait });
          // The widget keeps saying what it waits for while it asks again: no spinner in between.
          if (wait !== undefined) timer = setTimeout(() => ask(asked + 1), wait * 1000);
        },
      );
    setState({ status: 'loading' });
    ask(0);
    return () => {
      current = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, ...deps]);
  return state;
}
