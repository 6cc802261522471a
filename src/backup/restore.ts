/**
 * `medallion restore`: a backup brought back. Every file it needs is checked against its checksum before
 * anything changes; then the metadata store is loaded (into an empty database, or replacing what it holds), then
 * each lake gets back the objects it lacks or holds with other bytes.
 */
import { mapConcurrently } from '../core/concurrency.js';
import { MedallionError } from '../core/errors.js';
import type { MetadataStore, SnapshotTable } from '../metadata/metadata-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { LakeStores } from '../table/lake-layout.js';
import { BackupObjects } from './backup-objects.js';
import { describeObject, restoreLake, type LakeRestore } from './lake-files.js';
import { backupIds, objectKey, readManifest, type Manifest } from './manifest.js';
import { dumpedRows } from './metadata-files.js';
import type { CopyProgress } from './progress.js';

export interface RestoreOptions {
  location: ObjectStore;
  /** Which backup (default: the latest). */
  backup?: string;
  store: MetadataStore;
  /** Opens a lake the backup names: called once the metadata store is back, so its named connections work. */
  openLake: (location: string) => Promise<LakeStores>;
  /** Delete what the metadata database holds instead of refusing it. */
  replace?: boolean;
  onProgress?: (progress: CopyProgress) => void;
}

export interface RestoreReport {
  manifest: Manifest;
  lakes: LakeRestore[];
}

/** Checks done at once: reading back a backup is I/O bound. */
const CHECKS_AT_ONCE = 4;

const ignore = (): void => undefined;

/** Each file the backup names once, with what it holds (for messages) and its size. */
function filesOf(manifest: Manifest): Map<string, { holds: string; size: number }> {
  const files = new Map<string, { holds: string; size: number }>();
  for (const { table, sha256, size } of manifest.metadata.tables) {
    files.set(sha256, { holds: `the table ${table} of the metadata database`, size });
  }
  for (const lake of manifest.lakes) {
    for (const object of lake.objects) {
      if (!files.has(object.sha256)) {
        files.set(object.sha256, { holds: describeObject(lake.location, object), size: object.size });
      }
    }
  }
  return files;
}

async function checkFiles(
  objects: BackupObjects,
  manifest: Manifest,
  onProgress: (progress: CopyProgress) => void,
): Promise<void> {
  const files = [...filesOf(manifest)];
  const progress = { lake: objects.location.location, done: 0, total: files.length, copied: 0, bytes: 0 };
  await mapConcurrently(files, CHECKS_AT_ONCE, async ([sha256, { holds, size }]) => {
    await objects.verified(sha256, holds);
    progress.done += 1;
    progress.bytes += size;
    onProgress({ phase: 'check', ...progress });
  });
}

/** Reads the backup (default: the latest) and checks every file it needs; a BackupDamagedError names the first bad one. */
export async function checkBackup(
  location: ObjectStore,
  backup: string | undefined,
  onProgress: (progress: CopyProgress) => void = ignore,
): Promise<Manifest> {
  const manifest = await readManifest(location, backup);
  await checkFiles(new BackupObjects(location), manifest, onProgress);
  return manifest;
}

/** The backups at the location, oldest first. */
export async function listBackups(location: ObjectStore): Promise<Manifest[]> {
  const ids = await backupIds(location);
  return Promise.all(ids.map((id) => readManifest(location, id)));
}

async function assertSameMigration(store: MetadataStore, manifest: Manifest): Promise<void> {
  const current = Math.max(0, ...(await store.appliedMigrations()));
  const { migration } = manifest.metadata;
  if (current === migration) return;
  throw new MedallionError(
    `backup ${manifest.id} holds a metadata database at migration ${migration}, and this medallion's is at migration ${current}`,
    {
      hint:
        current > migration
          ? `restore it with the medallion version that made it (migration ${migration}), then start this one: it migrates the database`
          : 'restore it with a medallion at least as new as the one that made it',
    },
  );
}

async function* metadataTables(
  objects: BackupObjects,
  manifest: Manifest,
  onProgress: (progress: CopyProgress) => void,
): AsyncGenerator<SnapshotTable> {
  for (const { table, rows, sha256 } of manifest.metadata.tables) {
    const file = await objects.verified(sha256, `the table ${table} of the metadata database`);
    onProgress({ phase: 'metadata', table, rows });
    yield { table, pages: dumpedRows(file, `${objects.location.location}/${objectKey(sha256)}`) };
  }
}

export async function restore(options: RestoreOptions): Promise<RestoreReport> {
  const onProgress = options.onProgress ?? ignore;
  const manifest = await readManifest(options.location, options.backup);
  await assertSameMigration(options.store, manifest);
  const objects = new BackupObjects(options.location);
  await checkFiles(objects, manifest, onProgress);
  await options.store.loadSnapshot(
    manifest.metadata.migration,
    metadataTables(objects, manifest, onProgress),
    {
      replace: options.replace ?? false,
    },
  );
  const lakes: LakeRestore[] = [];
  for (const lake of manifest.lakes) {
    const stores = await options.openLake(lake.location);
    lakes.push(
      await restoreLake(stores, lake.objects, objects, (progress) =>
        onProgress({ phase: 'files', ...progress }),
      ),
    );
  }
  return { manifest, lakes };
}
