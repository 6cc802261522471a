/**
 * `medallion backup`: the metadata store as one consistent snapshot, then every object of the project's lakes,
 * into a backup location that keeps each file once (see manifest.ts); a manifest written last makes the backup.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { sha256File } from '../storage/sha256.js';
import type { LakeStores } from '../table/lake-layout.js';
import { BackupObjects } from './backup-objects.js';
import { backUpLake, KnownChecksums, type LakeCopy } from './lake-files.js';
import { backupId, backupIds, readManifest, writeManifest, type Manifest } from './manifest.js';
import { dumpMetadata, type DumpedTable } from './metadata-files.js';
import type { CopyProgress } from './progress.js';

export interface BackupOptions {
  store: MetadataStore;
  lakes: readonly LakeStores[];
  location: ObjectStore;
  /** Local files never copied from a lake: the SQLite metadata database, when it lives in one. */
  skip?: ReadonlySet<string>;
  now?: Date;
  onProgress?: (progress: CopyProgress) => void;
}

/** The tables' files stored by checksum; what the manifest records of them. */
async function storeTables(
  objects: BackupObjects,
  tables: readonly DumpedTable[],
): Promise<Pick<Manifest['metadata'], 'tables' | 'copied'>> {
  const copied = { objects: 0, bytes: 0 };
  const stored: Manifest['metadata']['tables'] = [];
  for (const { table, rows, path: file } of tables) {
    const [sha256, { size }] = await Promise.all([sha256File(file), stat(file)]);
    if (await objects.add(file, sha256)) {
      copied.objects += 1;
      copied.bytes += size;
    }
    stored.push({ table, rows, size, sha256 });
  }
  return { tables: stored, copied };
}

export async function backUp(options: BackupOptions): Promise<Manifest> {
  const createdAt = options.now ?? new Date();
  const onProgress = options.onProgress ?? (() => undefined);
  const objects = new BackupObjects(options.location);
  const latest = (await backupIds(options.location)).at(-1);
  const known = new KnownChecksums(
    latest === undefined ? undefined : await readManifest(options.location, latest),
  );
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'medallion-backup-'));
  try {
    // The metadata first: the lake's copy is then never behind what the snapshot records. A run committing
    // meanwhile adds files no run of the snapshot names; its tasks are recomputed after a restore, not lost.
    const dump = await dumpMetadata(options.store, scratch, ({ table, rows }) =>
      onProgress({ phase: 'metadata', table, rows }),
    );
    const metadata = {
      kind: options.store.dialect,
      migration: dump.migration,
      ...(await storeTables(objects, dump.tables)),
    };
    const lakes: LakeCopy[] = [];
    for (const lake of options.lakes) {
      lakes.push(
        await backUpLake(lake, objects, known, {
          skip: options.skip ?? new Set(),
          onProgress: (progress) => onProgress({ phase: 'files', ...progress }),
        }),
      );
    }
    const manifest: Manifest = {
      format: 1,
      id: backupId(createdAt),
      createdAt: createdAt.toISOString(),
      metadata,
      lakes,
    };
    await writeManifest(options.location, manifest);
    return manifest;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
