/** `medallion backup` and `medallion restore`: locations and stores opened here, the work in src/backup. */
import path from 'node:path';
import { storeConnections } from '../app/connections.js';
import { backUp } from '../backup/backup.js';
import type { Manifest } from '../backup/manifest.js';
import type { CopyProgress } from '../backup/progress.js';
import { checkBackup, listBackups, restore, type RestoreReport } from '../backup/restore.js';
import { ConfigError, MedallionError } from '../core/errors.js';
import { StoreNotEmptyError } from '../metadata/metadata-store.js';
import { parseMetadataUrl } from '../metadata/open.js';
import { openBackupLocation, openLake, storeSettings } from '../project/locations.js';
import type { Project } from '../project/project.js';
import { databaseConnections } from './connections-command.js';
import { fail } from './exit.js';
import { note, print, when } from './output.js';
import { openProject, openStore, withStore, type StoreFlags } from './project-context.js';
import { formatNumber, table } from './render.js';

export interface BackupFlags {
  to: string;
  lake: string[];
  db?: string;
  json: boolean;
}

export interface RestoreFlags extends StoreFlags {
  from: string;
  backup?: string;
  force: boolean;
  check: boolean;
  list: boolean;
}

/** --lake (each), else every lake the project's pipelines write. */
async function lakesToBackUp(project: Project, flags: BackupFlags): Promise<string[]> {
  if (flags.lake.length > 0) return [...new Set(flags.lake.map((lake) => project.lakeFromFlag(lake)))];
  const lakes = new Set(
    (await project.pipelines()).flatMap((pipeline) => project.locations(pipeline)?.lake ?? []),
  );
  if (lakes.size > 0) return [...lakes];
  throw new ConfigError('no lake to back up', {
    context: { field: '--lake' },
    hint: 'run inside a project whose pipelines name a lake, or pass --lake DIR (or s3://…)',
  });
}

/** A backup location inside a lake would be copied into itself by every backup. */
function refuseBackupInsideLake(to: string, lakes: readonly string[]): void {
  const target = path.resolve(to);
  const lake = lakes.find((location) => target === location || target.startsWith(location + path.sep));
  if (lake) {
    throw new ConfigError(`${to} is inside the lake ${lake}`, {
      context: { field: '--to' },
      hint: 'keep backups outside every lake (and preferably on another disk or server)',
    });
  }
}

/** A SQLite database's files, which a lake may hold (without a project file): read as a snapshot, never copied. */
function databaseFiles(url: string): Set<string> {
  const location = parseMetadataUrl(url);
  if (location.kind !== 'sqlite') return new Set();
  const file = path.resolve(location.path);
  return new Set(['', '-wal', '-shm', '-journal'].map((suffix) => `${file}${suffix}`));
}

/** Progress on stderr: each table of the metadata store, and the files at most once a second and when done. */
function progressOnStderr(verb: string): (progress: CopyProgress) => void {
  let printedAt = 0;
  return (progress) => {
    if (progress.phase === 'metadata') {
      note(`${verb}: metadata ${progress.table}, ${formatNumber(progress.rows)} row(s)`);
      return;
    }
    const now = Date.now();
    if (progress.done < progress.total && now - printedAt < 1_000) return;
    printedAt = now;
    const { lake, done, total, copied, bytes } = progress;
    note(
      progress.phase === 'check'
        ? `${verb}: ${lake}: ${formatNumber(done)}/${formatNumber(total)} files checked (${formatNumber(bytes)} bytes)`
        : `${verb}: ${lake}: ${formatNumber(done)}/${formatNumber(total)} files, ${formatNumber(copied)} copied (${formatNumber(bytes)} bytes)`,
    );
  };
}

const rowsOf = (manifest: Manifest): number =>
  manifest.metadata.tables.reduce((sum, { rows }) => sum + rows, 0);

function backupReport(location: string, manifest: Manifest) {
  const { kind, migration, tables, copied } = manifest.metadata;
  return {
    id: manifest.id,
    location,
    createdAt: manifest.createdAt,
    metadata: { kind, migration, tables: tables.length, rows: rowsOf(manifest), copied },
    lakes: manifest.lakes.map((lake) => ({
      location: lake.location,
      files: lake.objects.length,
      copied: lake.copied,
    })),
  };
}

function renderBackup(report: ReturnType<typeof backupReport>): string {
  const { metadata } = report;
  return [
    `backup ${report.id} written to ${report.location}`,
    `metadata: ${metadata.kind} at migration ${metadata.migration}, ${metadata.tables} tables, ${formatNumber(metadata.rows)} rows (${formatNumber(metadata.copied.objects)} file(s) copied)`,
    ...report.lakes.map(
      (lake) =>
        `lake ${lake.location}: ${formatNumber(lake.files)} files, ${formatNumber(lake.copied.objects)} copied (${formatNumber(lake.copied.bytes)} bytes)`,
    ),
  ].join('\n');
}

/** `medallion backup --to LOCATION`. */
export async function backupCommand(flags: BackupFlags): Promise<void> {
  const first = flags.lake[0];
  await withStore({ db: flags.db, lake: first }, async (store, project) => {
    const settings = storeSettings(process.env, storeConnections(store));
    const locations = await lakesToBackUp(project, flags);
    refuseBackupInsideLake(flags.to, locations);
    const lakes = [];
    for (const lake of locations) lakes.push(await openLake(lake, settings));
    const location = await openBackupLocation(flags.to, settings, { create: true });
    const manifest = await backUp({
      store,
      lakes,
      location,
      skip: databaseFiles(project.databaseUrl(flags.db, first && project.lakeFromFlag(first))),
      onProgress: progressOnStderr('backup'),
    });
    const report = backupReport(location.location, manifest);
    print(flags.json, report, () => renderBackup(report));
  });
}

function renderBackups(backups: Manifest[]): string {
  if (backups.length === 0) return 'no backup';
  return table(
    ['backup', 'made', 'metadata', 'rows', 'lakes', 'files', 'copied', 'bytes copied'],
    backups.map((manifest) => {
      const copied = [manifest.metadata.copied, ...manifest.lakes.map((lake) => lake.copied)];
      return [
        manifest.id,
        when(manifest.createdAt),
        `${manifest.metadata.kind} @${manifest.metadata.migration}`,
        formatNumber(rowsOf(manifest)),
        formatNumber(manifest.lakes.length),
        formatNumber(manifest.lakes.reduce((sum, lake) => sum + lake.objects.length, 0)),
        formatNumber(copied.reduce((sum, part) => sum + part.objects, 0)),
        formatNumber(copied.reduce((sum, part) => sum + part.bytes, 0)),
      ];
    }),
    ['made', 'metadata'],
  );
}

function renderRestore(location: string, { manifest, lakes }: RestoreReport, into: string): string {
  return [
    `restored backup ${manifest.id} (made ${when(manifest.createdAt)}) from ${location}`,
    `metadata: ${manifest.metadata.tables.length} tables, ${formatNumber(rowsOf(manifest))} rows into ${into} (the backup's was ${manifest.metadata.kind})`,
    ...lakes.map(
      (lake) =>
        `lake ${lake.location}: ${formatNumber(lake.objects)} files, ${formatNumber(lake.written.objects)} written back (${formatNumber(lake.written.bytes)} bytes), the others already there`,
    ),
  ].join('\n');
}

/** --list and --check: the backup location only, never the metadata database (opened for a named connection alone). */
async function inspectBackups(project: Project, flags: RestoreFlags): Promise<void> {
  const settings = storeSettings(process.env, databaseConnections(project, flags));
  const location = await openBackupLocation(flags.from, settings, { create: false });
  if (flags.list) {
    const backups = await listBackups(location);
    print(
      flags.json,
      backups.map((manifest) => backupReport(location.location, manifest)),
      () => renderBackups(backups),
    );
    return;
  }
  const manifest = await checkBackup(location, flags.backup, progressOnStderr('check'));
  const files = new Set([
    ...manifest.metadata.tables.map((entry) => entry.sha256),
    ...manifest.lakes.flatMap((lake) => lake.objects.map((object) => object.sha256)),
  ]).size;
  print(
    flags.json,
    { ...backupReport(location.location, manifest), checked: files },
    () =>
      `backup ${manifest.id} in ${location.location}: all ${formatNumber(files)} of its files match their checksums`,
  );
}

/** `medallion restore --from LOCATION`. */
export async function restoreCommand(flags: RestoreFlags): Promise<void> {
  try {
    const project = await openProject();
    if (flags.list || flags.check) return await inspectBackups(project, flags);
    const store = await openStore(project, flags);
    try {
      const settings = storeSettings(process.env, storeConnections(store));
      const location = await openBackupLocation(flags.from, settings, { create: false });
      const report = await restore({
        location,
        ...(flags.backup !== undefined && { backup: flags.backup }),
        store,
        openLake: (lake) => openLake(lake, settings),
        replace: flags.force,
        onProgress: progressOnStderr('restore'),
      }).catch((error: unknown) => {
        if (!(error instanceof StoreNotEmptyError)) throw error;
        throw new MedallionError(`${error.message}: nothing was restored`, {
          context: { field: '--db' },
          hint: 'restore into an empty database (a new SQLite file, or a new PostgreSQL database or schema), or pass --force to replace everything it holds with the backup',
        });
      });
      print(flags.json, { ...backupReport(location.location, report.manifest), restored: report.lakes }, () =>
        renderRestore(location.location, report, store.dialect),
      );
    } finally {
      await store.close();
    }
  } catch (error) {
    fail(error);
  }
}
