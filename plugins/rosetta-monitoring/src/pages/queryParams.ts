import { useCallback } from 'react';
import { useSearchParams } from 'react-router-dom';

/** Values for some of the page URL's query parameters: undefined takes a parameter out. */
export type QueryChanges = Record<string, string | undefined>;

/**
 * The page URL's query, where an estate page keeps its choices so that a link to it keeps them, and how to change
 * some of its parameters while keeping the others. Several parameters change together (a period takes a range out):
 * two changes in a row would each start from the same query, the second undoing the first.
 */
export function useQuery(): [URLSearchParams, (changes: QueryChanges) => void] {
  const [query, setQuery] = useSearchParams();
  const change = useCallback(
    (changes: QueryChanges) =>
      setQuery(
        current => {
          const kept = new URLSearchParams(current);
          for (const [name, value] of Object.entries(changes)) {
            if (value) kept.set(name, value);
            else kept.delete(name);
          }
          return kept;
        },
        // A choice replaces the page's entry: Back leaves the page rather than stepping through the choices.
        { replace: true },
      ),
    [setQuery],
  );
  return [query, change];
}

/**
 * One of the `values` a page offers, from the query parameter `name`. A value it does not offer (a typo, a name from
 * an older release) reads as `fallback`, rather than being asked of the API; choosing `fallback` takes the parameter
 * out, so that a link to the default view stays plain.
 */
export function useChoiceParam<T extends string>(
  name: string,
  values: readonly T[],
  fallback: T,
): [T, (value: T) => void] {
  const [query, change] = useQuery();
  const value = values.find(offered => offered === query.get(name)) ?? fallback;
  const choose = useCallback(
    (next: T) => change({ [name]: next === fallback ? undefined : next }),
    [change, name, fallback],
  );
  return [value, choose];
}
