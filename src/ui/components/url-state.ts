/** A page's state kept in the URL's search parameters, so that a link shows what its sender saw. */
import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

/**
 * The search parameters, and a function that changes some at once (null removes one) and keeps the others: two
 * separate changes in one event would each start from the same URL, and the second would undo the first.
 */
export function useSearchParamChanges(): [URLSearchParams, (changes: Record<string, string | null>) => void] {
  const [params, setParams] = useSearchParams();
  const change = useCallback(
    (changes: Record<string, string | null>) =>
      setParams((current) => {
        const next = new URLSearchParams(current);
        for (const [name, value] of Object.entries(changes)) {
          if (value === null) next.delete(name);
          else next.set(name, value);
        }
        return next;
      }),
    [setParams],
  );
  return [params, change];
}

/** One parameter's value (null when absent) and its setter. */
export function useSearchParam(name: string): [string | null, (value: string | null) => void] {
  const [params, change] = useSearchParamChanges();
  return [params.get(name), (value) => change({ [name]: value })];
}
