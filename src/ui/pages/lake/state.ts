/**
 * The Lake page's state, all of it in the URL (a link shows the same lake, layer, table, version, tab, page and
 * sort), and the API's paths for it.
 */
import { useSearchParams } from 'react-router';
import type { ObjectArea } from '../../../app/lake-objects.js';
import type { SortOrder } from '../../../app/table-rows.js';
import type { TableLayer } from '../../../app/tables.js';

/** The lake's areas, in the order data flows through them; `_medallion` holds objects only. */
export const AREAS = [
  'landing',
  'bronze',
  'silver',
  'gold',
  'quarantine',
  '_medallion',
] as const satisfies readonly ObjectArea[];

export const TABLE_TABS = ['rows', 'schema', 'history', 'compare'] as const;
export type TableTab = (typeof TABLE_TABS)[number];

export interface LakeState {
  /** The lake's index (absent: the first). */
  lake: string | undefined;
  layer: ObjectArea | undefined;
  table: string | undefined;
  version: number | undefined;
  /** A table's tab, or a layer's (`tables`, `objects`). */
  tab: string | undefined;
  offset: number;
  sort: string | undefined;
  order: SortOrder;
  from: number | undefined;
  to: number | undefined;
  /** The folder the object browser shows. */
  prefix: string;
}

type Key = keyof LakeState;
export type Changes = Partial<Record<Key, string | number | undefined>>;

const whole = (value: string | null): number | undefined =>
  value !== null && /^\d+$/.test(value) ? Number(value) : undefined;

function parse(params: URLSearchParams): LakeState {
  const layer = params.get('layer');
  return {
    lake: params.get('lake') ?? undefined,
    layer: (AREAS as readonly string[]).includes(layer ?? '') ? (layer as ObjectArea) : undefined,
    table: params.get('table') ?? undefined,
    version: whole(params.get('version')),
    tab: params.get('tab') ?? undefined,
    offset: whole(params.get('offset')) ?? 0,
    sort: params.get('sort') ?? undefined,
    order: params.get('order') === 'desc' ? 'desc' : 'asc',
    from: whole(params.get('from')),
    to: whole(params.get('to')),
    prefix: params.get('prefix') ?? '',
  };
}

/** What depends on what: choosing a table forgets the version, tab, page… of the one before. */
const RESETS: Partial<Record<Key, Key[]>> = {
  lake: ['layer', 'table', 'version', 'tab', 'offset', 'sort', 'order', 'from', 'to', 'prefix'],
  layer: ['table', 'version', 'tab', 'offset', 'sort', 'order', 'from', 'to', 'prefix'],
  table: ['version', 'tab', 'offset', 'sort', 'order', 'from', 'to'],
  version: ['offset'],
  tab: ['offset'],
  sort: ['offset'],
  order: ['offset'],
  prefix: ['offset'],
};

/** The search string of the current state with these changes (`?layer=gold&table=…`). */
function searchWith(params: URLSearchParams, changes: Changes): string {
  const next = new URLSearchParams(params);
  for (const key of Object.keys(changes) as Key[]) {
    for (const reset of RESETS[key] ?? []) next.delete(reset);
  }
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') next.delete(key);
    else next.set(key, String(value));
  }
  return `?${next.toString()}`;
}

export function useLakeState(): {
  state: LakeState;
  /** A link's `to` for the state with these changes. */
  link(changes: Changes): string;
  /** Goes there (a new history entry). */
  go(changes: Changes): void;
} {
  const [params, setParams] = useSearchParams();
  return {
    state: parse(params),
    link: (changes) => searchWith(params, changes),
    go: (changes) => setParams(new URLSearchParams(searchWith(params, changes))),
  };
}

/** An API path with its query (values left undefined are left out). */
export function apiPath(path: string, query: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

export function tablePath(state: { layer: TableLayer | string; table: string }, suffix = ''): string {
  return `/api/lake/tables/${encodeURIComponent(state.layer)}/${encodeURIComponent(state.table)}${suffix}`;
}
