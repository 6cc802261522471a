import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDiskStore } from '../storage/local-disk.js';
import type { ObjectStore } from '../storage/object-store.js';
import { localLake, type LakeArea, type LakeStores } from '../table/lake-layout.js';
import { BackupObjects } from './backup-objects.js';
import { backUpLake, KnownChecksums, restoreLake, type LakeCopy } from './lake-files.js';
import type { Manifest } from './manifest.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-lake-files-'));
  dirs.push(dir);
  return dir;
}

/** The keys whose bytes each store was asked to read (and hash). */
function countingReads(lake: LakeStores): { lake: LakeStores; read: string[] } {
  const read: string[] = [];
  const wrap = (store: ObjectStore): ObjectStore =>
    new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'localPathAndSha256') return Reflect.get(target, property, receiver) as unknown;
        return (key: string) => {
          read.push(key);
          return target.localPathAndSha256(key);
        };
      },
    });
  return { read, lake: { location: lake.location, store: (area: LakeArea) => wrap(lake.store(area)) } };
}

function previousBackup(copy: LakeCopy): Manifest {
  return {
    format: 1,
    id: '20240501T060000000Z',
    createdAt: '2024-05-01T06:00:00.000Z',
    metadata: { kind: 'sqlite', migration: 8, tables: [], copied: { objects: 0, bytes: 0 } },
    lakes: [copy],
  };
}

const noProgress = (): void => undefined;

/** backUpLake without progress: every object, but `skip`, checked against what `previous` recorded. */
function backUp(
  lake: LakeStores,
  objects: BackupObjects,
  previous?: Manifest,
  skip: ReadonlySet<string> = new Set(),
): Promise<LakeCopy> {
  return backUpLake(lake, objects, new KnownChecksums(previous), { skip, onProgress: noProgress });
}

describe('a lake copied into a backup location and back', () => {
  it('lists the system area once when it lives in the landing bucket, as in a lake with a bucket per area', async () => {
    const dir = await tempDir();
    // One bucket per area: the system area is `_medallion/` in the landing bucket.
    const buckets = (area: LakeArea): string =>
      area === 'system' ? path.join(dir, 'landing', '_medallion') : path.join(dir, area);
    const lake: LakeStores = { location: 's3://{layer}', store: (area) => new LocalDiskStore(buckets(area)) };
    await lake.store('landing').put('contracts/1/a.json', '{}');
    await lake.store('system').put('runs/r1.json', '{"run":"r1"}');
    await lake.store('silver').put('orders/_delta_log/00000000000000000000.json', '{}\n');
    const objects = new BackupObjects(new LocalDiskStore(path.join(dir, 'backup')));

    const copy = await backUp(lake, objects);
    expect(copy.objects.map((object) => `${object.area}:${object.key}`).sort()).toEqual([
      'landing:contracts/1/a.json',
      'silver:orders/_delta_log/00000000000000000000.json',
      'system:runs/r1.json',
    ]);
  });

  it('reads again only the objects whose size or time of writing changed since the previous backup, and skips the database', async () => {
    const dir = await tempDir();
    const local = localLake(path.join(dir, 'lake'));
    for (const key of ['a/part-0.parquet', 'a/part-1.parquet', 'a/_delta_log/00000000000000000000.json']) {
      await local.store('gold').put(key, `bytes of ${key}`);
    }
    await local.store('system').put('metadata.db', 'a SQLite database');
    const skip = new Set([path.join(dir, 'lake', '_medallion', 'metadata.db')]);
    const objects = new BackupObjects(new LocalDiskStore(path.join(dir, 'backup')));
    const first = await backUp(local, objects, undefined, skip);
    expect(first.objects.map((object) => object.key)).not.toContain('metadata.db');
    expect(first.copied.objects).toBe(3);

    await local.store('gold').put('a/part-2.parquet', 'new bytes');
    const rewritten = path.join(dir, 'lake', 'gold', 'a', 'part-1.parquet');
    await utimes(rewritten, new Date(), new Date(Date.now() + 5_000));
    const counted = countingReads(local);
    const second = await backUp(counted.lake, objects, previousBackup(first), skip);
    expect(counted.read.sort()).toEqual(['a/part-1.parquet', 'a/part-2.parquet']);
    // part-1 has a new time but its bytes are held already: only part-2 is copied.
    expect(second.copied).toEqual({ objects: 1, bytes: 'new bytes'.length });
    expect(second.objects).toHaveLength(4);
  });

  it('stores files of the same bytes once, even when copied at the same time', async () => {
    const dir = await tempDir();
    const lake = localLake(path.join(dir, 'lake'));
    for (const table of ['silver_a', 'silver_b', 'gold_c', 'gold_d']) {
      await lake.store('quarantine').put(`${table}/part-0.parquet`, 'an empty quarantine');
    }
    const backup = new LocalDiskStore(path.join(dir, 'backup'));
    const copy = await backUp(lake, new BackupObjects(backup));
    expect(copy.objects).toHaveLength(4);
    expect(copy.copied).toEqual({ objects: 1, bytes: 'an empty quarantine'.length });
    expect(await backup.list('objects/')).toHaveLength(1);
  });

  it('writes back only what the lake lacks or holds with other bytes, and leaves what the backup does not name', async () => {
    const dir = await tempDir();
    const lake = localLake(path.join(dir, 'lake'));
    await lake.store('silver').put('t/part-0.parquet', 'zero');
    await lake.store('silver').put('t/part-1.parquet', 'one');
    const objects = new BackupObjects(new LocalDiskStore(path.join(dir, 'backup')));
    const copy = await backUp(lake, objects);

    await rm(path.join(dir, 'lake', 'silver', 't', 'part-0.parquet'));
    await writeFile(path.join(dir, 'lake', 'silver', 't', 'part-1.parquet'), 'One'); // same size, other bytes
    await lake.store('silver').put('t/part-9.parquet', 'written after the backup');
    const restored = await restoreLake(lake, copy.objects, objects, noProgress);
    expect(restored.written).toEqual({ objects: 2, bytes: 'zero'.length + 'one'.length });
    expect((await lake.store('silver').get('t/part-0.parquet')).toString()).toBe('zero');
    expect((await lake.store('silver').get('t/part-1.parquet')).toString()).toBe('one');
    expect((await lake.store('silver').get('t/part-9.parquet')).toString()).toBe('written after the backup');

    const again = await restoreLake(lake, copy.objects, objects, noProgress);
    expect(again.written.objects).toBe(0);
  });
});
