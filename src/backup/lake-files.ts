/**
 * A lake's objects — every table's Delta log and data files in each layer and the quarantine, the landing files
 * and their manifest, the run summaries — copied into a backup location by checksum, and back into the lake.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { mapConcurrently } from '../core/concurrency.js';
import type { ObjectInfo } from '../storage/object-store.js';
import { AREA_DIRECTORIES, LAKE_AREAS, type LakeArea, type LakeStores } from '../table/lake-layout.js';
import type { BackupObjects } from './backup-objects.js';
import type { LakeObject, Manifest } from './manifest.js';
import type { FilesProgress } from './progress.js';

/** Objects copied at once: enough to keep a network busy, few enough for 2 cores. */
const COPIES_AT_ONCE = 4;

/** A lake as a backup's manifest records it: its objects, and what this backup copied of them. */
export type LakeCopy = Manifest['lakes'][number];

/** What a restore wrote back into a lake. */
export interface LakeRestore {
  location: string;
  /** Objects the backup names. */
  objects: number;
  written: { objects: number; bytes: number };
}

/**
 * Every object of the lake, area by area, but the local files in `skip` (a SQLite metadata database kept in the
 * lake, which the backup reads as a snapshot instead). A lake with a bucket per area keeps the system area under
 * `_medallion/` in the landing bucket: it is listed once, as the system area's.
 */
async function listLake(
  lake: LakeStores,
  skip: ReadonlySet<string>,
): Promise<{ area: LakeArea; info: ObjectInfo }[]> {
  const listed = await Promise.all(
    LAKE_AREAS.map(async (area) => {
      const store = lake.store(area);
      return (await store.list(''))
        .filter((info) => !(area === 'landing' && info.key.startsWith(`${AREA_DIRECTORIES.system}/`)))
        .filter((info) => !skip.has(path.join(store.location, info.key)))
        .map((info) => ({ area, info }));
    }),
  );
  return listed.flat();
}

/**
 * The checksums an earlier backup recorded, trusted for an object whose size and time of last write are still
 * the same: a lake's files are written once (Delta data and log files, landed files), so an incremental backup
 * reads only what changed.
 */
export class KnownChecksums {
  private readonly byObject = new Map<string, LakeObject>();

  constructor(previous: Manifest | undefined) {
    for (const lake of previous?.lakes ?? []) {
      for (const object of lake.objects)
        this.byObject.set(this.id(lake.location, object.area, object.key), object);
    }
  }

  private id(location: string, area: string, key: string): string {
    return `${location}\0${area}\0${key}`;
  }

  of(location: string, area: LakeArea, info: ObjectInfo): string | undefined {
    const known = this.byObject.get(this.id(location, area, info.key));
    return known?.size === info.size && known.modified === info.lastModified.toISOString()
      ? known.sha256
      : undefined;
  }
}

/** Copies the lake's objects the backup location does not hold yet; returns what the manifest records of them. */
export async function backUpLake(
  lake: LakeStores,
  objects: BackupObjects,
  known: KnownChecksums,
  options: { skip: ReadonlySet<string>; onProgress: (progress: FilesProgress) => void },
): Promise<LakeCopy> {
  const listed = await listLake(lake, options.skip);
  const progress: FilesProgress = { lake: lake.location, done: 0, total: listed.length, copied: 0, bytes: 0 };
  const entries = await mapConcurrently(listed, COPIES_AT_ONCE, async ({ area, info }) => {
    const modified = info.lastModified.toISOString();
    const sha256 = known.of(lake.location, area, info);
    let entry: LakeObject;
    if (sha256 !== undefined && (await objects.has(sha256))) {
      entry = { area, key: info.key, size: info.size, sha256, modified };
    } else {
      const local = await lake.store(area).localPathAndSha256(info.key);
      const { size } = await stat(local.path);
      if (await objects.add(local.path, local.sha256)) {
        progress.copied += 1;
        progress.bytes += size;
      }
      entry = { area, key: info.key, size, sha256: local.sha256, modified };
    }
    progress.done += 1;
    options.onProgress({ ...progress });
    return entry;
  });
  return {
    location: lake.location,
    objects: entries,
    copied: { objects: progress.copied, bytes: progress.bytes },
  };
}

/** An object of a lake, for messages: `silver/orders/part-0.parquet of the lake /data/lake`. */
export function describeObject(location: string, object: Pick<LakeObject, 'area' | 'key'>): string {
  return `${AREA_DIRECTORIES[object.area]}/${object.key} of the lake ${location}`;
}

/**
 * Writes back every object of the backup the lake lacks or holds with other bytes (each checked against its
 * checksum first); objects the lake holds with the backup's bytes, and those the backup does not name, are left
 * as they are.
 */
export async function restoreLake(
  lake: LakeStores,
  wanted: readonly LakeObject[],
  objects: BackupObjects,
  onProgress: (progress: FilesProgress) => void,
): Promise<LakeRestore> {
  const present = new Map(
    (await listLake(lake, new Set())).map(({ area, info }) => [`${area}/${info.key}`, info]),
  );
  const progress: FilesProgress = { lake: lake.location, done: 0, total: wanted.length, copied: 0, bytes: 0 };
  await mapConcurrently(wanted, COPIES_AT_ONCE, async (object) => {
    const store = lake.store(object.area);
    const there = present.get(`${object.area}/${object.key}`);
    const same =
      there?.size === object.size &&
      (there.lastModified.toISOString() === object.modified ||
        (await store.localPathAndSha256(object.key)).sha256 === object.sha256);
    if (!same) {
      const holds = describeObject(lake.location, object);
      await store.putFile(await objects.verified(object.sha256, holds), object.key);
      progress.copied += 1;
      progress.bytes += object.size;
    }
    progress.done += 1;
    onProgress({ ...progress });
  });
  return {
    location: lake.location,
    objects: wanted.length,
    written: { objects: progress.copied, bytes: progress.bytes },
  };
}
