/**
 * The lake's objects as MinIO's console shows a bucket: one area (landing, a layer, quarantine, medallion's own
 * `_medallion`) listed a folder at a time, and one object downloaded. Only keys inside the area of a lake the
 * project configures: a key that is absolute, climbs out (`..`, also percent-encoded), or holds a backslash or a
 * control character is refused before any store sees it.
 */
import type { Readable } from 'node:stream';
import { ConfigError, NotFoundError } from '../core/errors.js';
import type { LakeArea } from '../table/lake-layout.js';
import type { AppContext } from './context.js';
import type { LakeReader } from './lake-reader.js';
import { findLake, type LakeInfo } from './tables.js';

export const OBJECT_AREAS = ['landing', 'bronze', 'silver', 'gold', 'quarantine', '_medallion'] as const;
export type ObjectArea = (typeof OBJECT_AREAS)[number];

const LAKE_AREA: Record<ObjectArea, LakeArea> = {
  landing: 'landing',
  bronze: 'bronze',
  silver: 'silver',
  gold: 'gold',
  quarantine: 'quarantine',
  _medallion: 'system',
};

export const MAX_LISTED = 1000;

/** Percent-decodings looked through for a hidden `..`: `%2e%2e`, `%252e%252e`… */
const DECODINGS = 3;

/** Why a key (or a folder prefix) is no key inside an area; undefined when it is one. */
function flaw(value: string, folder: boolean): string | undefined {
  if ([...value].some((char) => char < ' ' || char === '\u007f')) return 'holds a control character';
  if (value.includes('\\')) return 'holds a backslash';
  if (value.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(value)) return 'names a drive';
  const path = folder ? value.replace(/\/$/, '') : value;
  if (folder && value !== '' && !value.endsWith('/')) return 'is not a folder (it must end with /)';
  if (path === '' && folder) return undefined;
  const segments = path.split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) return 'climbs out of the area';
  if (segments.some((segment) => segment === '')) return 'has an empty segment';
  return undefined;
}

/**
 * The key (or, with `folder`, the folder prefix: empty or ending with `/`) as given, or a ConfigError naming
 * the field and the flaw. Its percent-decodings are checked too: a store or a proxy along the way may decode it.
 */
export function checkKey(value: string, field: string, options: { folder?: boolean } = {}): string {
  let decoded = value;
  for (let round = 0; round <= DECODINGS; round += 1) {
    const found = flaw(decoded, options.folder ?? false);
    if (found) {
      throw new ConfigError(`${field} "${value}" ${found}`, {
        context: { field },
        hint: 'keys are relative to the area and stay inside it, e.g. marches/20261129T120000Z-ab12/file.json',
      });
    }
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      break; // a lone `%` is a character of the name, not an encoding
    }
    if (next === decoded) break;
    decoded = next;
  }
  return value;
}

export interface ObjectEntry {
  kind: 'folder' | 'file';
  /** The folder's prefix (ending with /) or the file's key, relative to the area. */
  key: string;
  /** The last segment. */
  name: string;
  size: number | null;
  lastModified: string | null;
}

export interface ObjectListing {
  lake: LakeInfo;
  area: ObjectArea;
  prefix: string;
  /** Folders first, then files, each by name. */
  entries: ObjectEntry[];
  total: number;
  offset: number;
  limit: number;
}

async function areaStore(ctx: AppContext, reader: LakeReader, lakeRef: string | undefined, area: ObjectArea) {
  if (!(OBJECT_AREAS as readonly string[]).includes(area)) {
    throw new ConfigError(`no area ${area}`, { context: { field: 'area' }, hint: OBJECT_AREAS.join(', ') });
  }
  const lake = await findLake(ctx, lakeRef);
  return { lake, store: (await reader.lake(lake.location)).stores.store(LAKE_AREA[area]) };
}

const lastSegment = (key: string): string => key.replace(/\/$/, '').split('/').at(-1) ?? key;

/** One folder of an area: the folders and files directly in it, a page at a time. */
export async function listObjects(
  ctx: AppContext,
  reader: LakeReader,
  query: { lake?: string; area: ObjectArea; prefix?: string; offset?: number; limit?: number },
): Promise<ObjectListing> {
  const prefix = checkKey(query.prefix ?? '', 'prefix', { folder: true });
  const offset = Math.max(0, query.offset ?? 0);
  const limit = Math.min(Math.max(1, query.limit ?? 200), MAX_LISTED);
  const { lake, store } = await areaStore(ctx, reader, query.lake, query.area);
  const listing = await store.listDelimited(prefix);
  const entries: ObjectEntry[] = [
    ...listing.prefixes.map((key) => ({
      kind: 'folder' as const,
      key,
      name: lastSegment(key),
      size: null,
      lastModified: null,
    })),
    ...listing.objects.map((object) => ({
      kind: 'file' as const,
      key: object.key,
      name: lastSegment(object.key),
      size: object.size,
      lastModified: object.lastModified.toISOString(),
    })),
  ];
  return {
    lake,
    area: query.area,
    prefix,
    entries: entries.slice(offset, offset + limit),
    total: entries.length,
    offset,
    limit,
  };
}

export interface OpenedObject {
  name: string;
  size: number;
  lastModified: string;
  body: Readable;
}

/**
 * One object of an area, to download. Only an object its folder's listing shows: on local disk, that listing
 * leaves out what a symbolic link would reach outside the lake.
 */
export async function openObject(
  ctx: AppContext,
  reader: LakeReader,
  query: { lake?: string; area: ObjectArea; key: string },
): Promise<OpenedObject> {
  const key = checkKey(query.key, 'key');
  const { store } = await areaStore(ctx, reader, query.lake, query.area);
  const object = (await store.listDelimited(key)).objects.find((candidate) => candidate.key === key);
  if (!object) {
    throw new NotFoundError(`no object ${key} in ${query.area}`, {
      context: { field: 'key' },
      hint: 'list its folder to see what is there',
    });
  }
  return {
    name: lastSegment(key),
    size: object.size,
    lastModified: object.lastModified.toISOString(),
    body: await store.getStream(key),
  };
}
