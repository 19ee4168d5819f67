import { useCallback } from 'react';
import { LabelledSelect } from '../components/common/LabelledSelect';
import { useMonitoringData } from '../components/common/useMonitoringData';
import { useQuery } from './queryParams';

/** The page URL's query parameter naming the environment its figures are for, so that a link to it keeps it. */
export const ENVIRONMENT_PARAM = 'environment';

/** What the picker says before the API has named the production environment (ROSETTA_PRODUCTION_ENVIRONMENT). */
const DEFAULT_LABEL = "the estate's production";

/**
 * The environment an estate page shows, from its URL, and how to choose another. Undefined is the estate's production
 * environment (the API's default): choosing it takes the parameter out, so a link to production's figures stays plain.
 */
export function useEnvironmentParam(): [string | undefined, (environment: string | undefined) => void] {
  const [query, change] = useQuery();
  const environment = query.get(ENVIRONMENT_PARAM) || undefined;
  const choose = useCallback((next: string | undefined) => change({ [ENVIRONMENT_PARAM]: next }), [change]);
  return [environment, choose];
}

/**
 * The environment picker of an estate page: the environments the mapping has, the production one by default. While
 * the list loads, or when it cannot be read, it shows the environment the page is for alone (the page's widgets say
 * what the API answered); a link's environment the mapping no longer has stays listed, and the widgets say the API
 * refuses it.
 */
export function EnvironmentPicker(props: { environment?: string; onChange: (environment: string | undefined) => void }) {
  const { environment, onChange } = props;
  // The overview names the environments whichever it is asked for: read as the dashboard reads production's, the two
  // share one request and, while the API makes them wait, one timer.
  const estate = useMonitoringData(api => api.getOverview('last_30d'), ['overview', 'last_30d', undefined]);
  const known = estate.status === 'ready' ? estate.value : undefined;
  const production = known?.productionEnvironment;
  const names = [...(known?.environments ?? [])];
  // A link's environment is the mapping's in any case, as the API reads it (`Production` is production).
  const asked = environment ?? production ?? '';
  const shown = names.find(name => name.toLowerCase() === asked.toLowerCase()) ?? asked;
  if (shown && !names.includes(shown)) names.push(shown);
  return (
    <LabelledSelect
      label="Environment"
      // Only while nothing names the environment: once the API names production, it is an entry of its own.
      placeholder={shown ? undefined : DEFAULT_LABEL}
      items={names.map(name => ({ label: name, value: name }))}
      selected={shown}
      onChange={value => {
        // The placeholder's own entry answers no environment: the page keeps the one it shows.
        if (typeof value !== 'string' || !value) return;
        onChange(value === production ? undefined : value);
      }}
    />
  );
}
