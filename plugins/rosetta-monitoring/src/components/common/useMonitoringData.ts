import { useEffect, useState, DependencyList } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import { MonitoringApi, monitoringApiRef } from '../../api/MonitoringApi';

export type DataState<T> =
  | { status: 'loading' }
  | { status: 'error'; error: Error }
  | { status: 'ready'; value: T };

/** Loads one answer of the monitoring API for a widget; reloads when deps change. */
export function useMonitoringData<T>(
  load: (api: MonitoringApi) => Promise<T>,
  deps: DependencyList,
): DataState<T> {
  const api = useApi(monitoringApiRef);
  const [state, setState] = useState<DataState<T>>({ status: 'loading' });
  useEffect(() => {
    let current = true;
    setState({ status: 'loading' });
    load(api).then(
      value => current && setState({ status: 'ready', value }),
      error => current && setState({ status: 'error', error }),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, ...deps]);
  return state;
}
