import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CHECKPOINT_INTERVAL,
  checkpointFileName,
  parseCheckpointVersion,
  readCheckpointFile,
  writeCheckpointFile,
} from './checkpoint.js';
import { CommitConflictError } from '../core/errors.js';
import {
  assertWhole,
  latestVersion,
  logSegment,
  readableVersions,
  type LogListing,
  type LogObject,
} from './delta-log.js';
import { joinKey, ObjectExistsError, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import {
  commitFileName,
  LOG_DIR,
  parseActions,
  parseStats,
  parseCommitVersion,
  READER_VERSION,
  serializeActions,
  WRITER_VERSION,
  type AddAction,
  type CommitInfoAction,
  type DeltaAction,
  type DeltaStructType,
  type FileStats,
  type MetadataAction,
  type TxnAction,
} from './delta-protocol.js';

/** One version of a table: what a reader sees. */
export interface TableSnapshot {
  version: number;
  metadata: MetadataAction;
  schema: DeltaStructType;
  partitionColumns: string[];
  /** The data files of this version. */
  files: AddAction[];
  /** Last version per application id (Delta SetTransaction), for idempotent writes. */
  txns: Map<string, number>;
  /** When this version was committed (ms since epoch). */
  timestamp: number;
  /** What the version's own commit says of itself; absent when the log keeps only its checkpoint. */
  commitInfo?: CommitInfoAction;
}

/** Rows in a version, from its files' statistics (a file without them counts 0). */
export function snapshotRows(snapshot: TableSnapshot): number {
  return snapshot.files.reduce((sum, file) => sum + (parseStats(file)?.numRecords ?? 0), 0);
}

/** A Parquet file ready to become part of the table: on local disk, or already in the table's store. */
export type StagedFile = LocalStagedFile | StoredStagedFile;

interface StagedFileFacts {
  /** Path inside the table directory, e.g. `year=2022/part-….parquet`. */
  relativePath: string;
  partitionValues: Record<string, string | null>;
  stats: FileStats;
  size: number;
}

/** Written on local disk: the commit moves it to `relativePath` under the table's root. */
export interface LocalStagedFile extends StagedFileFacts {
  localPath: string;
}

/**
 * Written by an engine straight into the table's store, at `relativePath` under its root (Spark's executors on an
 * S3 lake): the commit names it where it is. Unnamed, it is invisible to readers and vacuum removes it.
 */
export interface StoredStagedFile extends StagedFileFacts {
  inStore: true;
}

export interface CommitRequest {
  /**
   * append: adds `files`; overwrite: removes every file of `readVersion` first; rewrite: removes the files named in
   * `removes` (a copy-on-write merge, a restore) and never lands on another writer's newer version.
   */
  mode: 'append' | 'overwrite' | 'rewrite';
  schema: DeltaStructType;
  partitionColumns: string[];
  files: StagedFile[];
  /** rewrite: the `add.path` of each file of `readVersion` this commit removes. */
  removes?: string[];
  /** Files already in the table's directory (an older version's, brought back by a restore), added as they are. */
  reAdds?: AddAction[];
  /** The version the new data was computed from; -1 when the table did not exist. */
  readVersion: number;
  /** Applications whose progress this commit records; a commit whose txns are all already recorded is skipped. */
  txns?: TxnAction[];
  /**
   * An append whose rows depend on what the table held at `readVersion` (the landing manifest's: a file is landed
   * once): it fails with a CommitConflictError instead of landing on another writer's newer version.
   */
  exclusive?: boolean;
  operation?: string;
  /** Extra operationParameters (a restore's version, a merge's key). */
  parameters?: Record<string, string>;
  /** Extra fields for commitInfo (run id, task, the facts a restore brings back…), any JSON value. */
  info?: Record<string, unknown>;
}

export interface CommitResult {
  version: number;
  /** True when an earlier attempt had already committed these txns and nothing was written. */
  alreadyCommitted: boolean;
}

const ENGINE_INFO = 'medallion/0.1.0';

/**
 * Commit files never change once written, so their parsed actions are shared by every DeltaTable of the process:
 * a scheduler that reads a table's snapshot at every run then only fetches the commits made since. The key holds
 * the object's size and time from the listing, so a table deleted and written again is read afresh.
 */
const sharedCommits = new Map<string, DeltaAction[]>();
const SHARED_COMMITS_MAX = 50_000;

function remember(key: string, actions: DeltaAction[]): void {
  sharedCommits.delete(key);
  sharedCommits.set(key, actions);
  if (sharedCommits.size > SHARED_COMMITS_MAX) {
    const oldest = sharedCommits.keys().next().value;
    if (oldest !== undefined) sharedCommits.delete(oldest);
  }
}

/** A Delta Lake table rooted at `root` in an object store. */
export class DeltaTable {
  constructor(
    readonly store: ObjectStore,
    readonly root: string,
  ) {}

  private logKey(version: number): string {
    return joinKey(this.root, LOG_DIR, commitFileName(version));
  }

  /** Where the table is, for messages. */
  get location(): string {
    return `${this.store.location}/${this.root}`;
  }

  /** Every version a reader can open, oldest first; DeltaLogGapError when the log lacks a commit the latest needs. */
  async versions(): Promise<number[]> {
    return readableVersions(this.location, await this.logListing());
  }

  private async logListing(): Promise<LogListing> {
    const objects = await this.store.list(joinKey(this.root, LOG_DIR) + '/');
    const named = (parse: (name: string) => number | undefined): LogObject[] =>
      objects
        .map((object) => ({ version: parse(object.key.slice(object.key.lastIndexOf('/') + 1)), object }))
        .filter((entry): entry is LogObject => entry.version !== undefined)
        .sort((a, b) => a.version - b.version);
    return { commits: named(parseCommitVersion), checkpoints: named(parseCheckpointVersion) };
  }

  /**
   * The versions a reader can open and the snapshot of one of them (default the latest; undefined when there is
   * no table or that version cannot be read), from one listing of the log: what showing a table to people needs.
   */
  async open(version?: number): Promise<{ versions: number[]; snapshot: TableSnapshot | undefined }> {
    const listing = await this.logListing();
    const versions = readableVersions(this.location, listing);
    const wanted = version ?? versions.at(-1);
    const readable = wanted !== undefined && versions.includes(wanted);
    return { versions, snapshot: readable ? await this.snapshotOf(listing, wanted) : undefined };
  }

  async exists(): Promise<boolean> {
    return (await this.versions()).length > 0;
  }

  /**
   * The commits the log holds from version `from` to `to` (default: the latest), oldest first, each with its
   * actions: what a table's history shows. Commits older than a checkpoint may have been removed: those are absent.
   */
  async commits(from: number, to?: number): Promise<{ version: number; actions: DeltaAction[] }[]> {
    const listing = await this.logListing();
    assertWhole(this.location, listing);
    const wanted = listing.commits.filter(
      (commit) => commit.version >= from && (to === undefined || commit.version <= to),
    );
    return Promise.all(
      wanted.map(async (commit) => ({ version: commit.version, actions: await this.readCommit(commit) })),
    );
  }

  private async readCommit(commit: LogObject): Promise<DeltaAction[]> {
    const key = commit.object.key;
    return this.readShared(key, commit.object, async () =>
      parseActions((await this.store.get(key)).toString('utf8'), key),
    );
  }

  private async readCheckpoint(checkpoint: LogObject): Promise<DeltaAction[]> {
    return this.readShared(checkpoint.object.key, checkpoint.object, async () =>
      readCheckpointFile(await this.store.localPath(checkpoint.object.key)),
    );
  }

  /**
   * A log file's actions, from the process-wide cache when this very file (key, size, time) was read before:
   * a file removed and written again (a table recreated, a commit restored) is read afresh.
   */
  private async readShared(
    key: string,
    listed: ObjectInfo,
    read: () => Promise<DeltaAction[]>,
  ): Promise<DeltaAction[]> {
    const shared = `${this.store.location}\0${key}\0${listed.size}\0${listed.lastModified.getTime()}`;
    const actions = sharedCommits.get(shared) ?? (await read());
    remember(shared, actions);
    return actions;
  }

  /**
   * The latest version, or the one asked for (time travel); undefined when the table does not exist.
   * DeltaLogGapError when the log lacks a commit that version is built from: never a partial read.
   */
  async snapshot(version?: number): Promise<TableSnapshot | undefined> {
    return this.snapshotOf(await this.logListing(), version);
  }

  private async snapshotOf(listing: LogListing, version?: number): Promise<TableSnapshot | undefined> {
    const latest = latestVersion(listing);
    if (latest === undefined) return undefined;
    if (version !== undefined && version > latest) {
      throw new Error(`${this.root}: version ${version} does not exist`);
    }
    const segment = logSegment(this.location, listing, version ?? latest);
    // The checkpoint's state, then its own commit again (for the timestamp) and those after.
    const logs = await Promise.all(segment.commits.map((commit) => this.readCommit(commit)));
    const checkpoint = segment.checkpoint;
    const replayed = checkpoint ? [await this.readCheckpoint(checkpoint), ...logs] : logs;
    return replay(this.root, segment.version, replayed, checkpoint?.object.lastModified.getTime() ?? 0);
  }

  /**
   * Writes the checkpoint of `version` and points `_last_checkpoint` at it. Best effort: the commit is done, and
   * a missing checkpoint only means readers replay more commits — so a failure is not the writer's failure.
   */
  private async checkpoint(version: number): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-checkpoint-'));
    try {
      const snapshot = await this.snapshot(version);
      if (!snapshot) return;
      const actions: DeltaAction[] = [
        { protocol: { minReaderVersion: READER_VERSION, minWriterVersion: WRITER_VERSION } },
        { metaData: snapshot.metadata },
        ...[...snapshot.txns].map(([appId, txnVersion]) => ({
          txn: { appId, version: txnVersion, lastUpdated: snapshot.timestamp },
        })),
        ...snapshot.files.map((add) => ({ add })),
      ];
      const file = path.join(dir, checkpointFileName(version));
      await writeCheckpointFile(actions, file);
      await this.store.putFile(file, joinKey(this.root, LOG_DIR, checkpointFileName(version)), {
        move: true,
      });
      await this.store.put(
        joinKey(this.root, LOG_DIR, '_last_checkpoint'),
        JSON.stringify({ version, size: actions.length }),
      );
    } catch {
      // Readers fall back to the commits.
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    let readVersion = request.readVersion;
    let uploaded = false;
    for (;;) {
      // The whole log is checked, not only the version read: a commit on top of a gap would seal it in.
      const listing = await this.logListing();
      assertWhole(this.location, listing);
      const current = readVersion >= 0 ? await this.snapshotOf(listing, readVersion) : undefined;
      if (readVersion >= 0 && !current)
        throw this.conflict(`version ${readVersion} of ${this.root} is gone: the table was removed`);
      if (request.txns?.length && current && request.txns.every((txn) => isRecorded(current, txn))) {
        return { version: current.version, alreadyCommitted: true };
      }
      if (!uploaded) {
        // Data files first: they are invisible until the log names them, so a crash here leaves
        // the previous version intact (and only unreferenced files behind).
        await Promise.all(
          request.files.flatMap((file) =>
            'localPath' in file
              ? [this.store.putFile(file.localPath, joinKey(this.root, file.relativePath), { move: true })]
              : [],
          ),
        );
        uploaded = true;
      }
      const version = readVersion + 1;
      try {
        await this.store.putIfAbsent(this.logKey(version), serializeActions(buildActions(request, current)));
        if (version > 0 && version % CHECKPOINT_INTERVAL === 0) await this.checkpoint(version);
        return { version, alreadyCommitted: false };
      } catch (error) {
        if (!(error instanceof ObjectExistsError)) throw error;
        const latest = await this.snapshot();
        if (request.mode === 'append' && !request.exclusive && latest && sameShape(latest, request)) {
          readVersion = latest.version; // an append still applies on top of the other writer's version
          continue;
        }
        throw this.conflict(`another writer committed version ${version} of ${this.root} first`);
      }
    }
  }

  private conflict(message: string): CommitConflictError {
    return new CommitConflictError(message, {
      context: { file: this.root },
      hint: 'rerun the task: it will recompute from the new version',
    });
  }
}

function isRecorded(snapshot: TableSnapshot, txn: TxnAction): boolean {
  const recorded = snapshot.txns.get(txn.appId);
  return recorded !== undefined && recorded >= txn.version;
}

function sameShape(snapshot: TableSnapshot, request: CommitRequest): boolean {
  return (
    snapshot.metadata.schemaString === JSON.stringify(request.schema) &&
    snapshot.partitionColumns.join(',') === request.partitionColumns.join(',')
  );
}

function buildActions(request: CommitRequest, current: TableSnapshot | undefined): DeltaAction[] {
  const now = Date.now();
  const actions: DeltaAction[] = [
    {
      commitInfo: {
        timestamp: now,
        operation: request.operation ?? 'WRITE',
        operationParameters: {
          ...(request.mode !== 'rewrite' && { mode: request.mode === 'append' ? 'Append' : 'Overwrite' }),
          partitionBy: JSON.stringify(request.partitionColumns),
          ...request.parameters,
        },
        engineInfo: ENGINE_INFO,
        ...(current ? { readVersion: current.version } : {}),
        ...request.info,
      },
    },
  ];
  if (!current)
    actions.push({ protocol: { minReaderVersion: READER_VERSION, minWriterVersion: WRITER_VERSION } });
  if (!current || !sameShape(current, request)) {
    actions.push({
      metaData: {
        id: current?.metadata.id ?? randomUUID(),
        format: { provider: 'parquet', options: {} },
        schemaString: JSON.stringify(request.schema),
        partitionColumns: request.partitionColumns,
        configuration: {},
        createdTime: current?.metadata.createdTime ?? now,
      },
    });
  }
  for (const txn of request.txns ?? []) actions.push({ txn: { ...txn, lastUpdated: now } });
  for (const file of removedFiles(request, current)) {
    actions.push({
      remove: {
        path: file.path,
        deletionTimestamp: now,
        dataChange: true,
        extendedFileMetadata: true,
        partitionValues: file.partitionValues,
        size: file.size,
      },
    });
  }
  for (const add of request.reAdds ?? [])
    actions.push({ add: { ...add, modificationTime: now, dataChange: true } });
  for (const file of request.files) {
    actions.push({
      add: {
        path: encodeDeltaPath(file.relativePath),
        partitionValues: file.partitionValues,
        size: file.size,
        modificationTime: now,
        dataChange: true,
        stats: JSON.stringify(file.stats),
      },
    });
  }
  return actions;
}

/** The files of `current` the request removes; a rewrite naming a file `current` lacks is refused. */
function removedFiles(request: CommitRequest, current: TableSnapshot | undefined): AddAction[] {
  if (!current) return [];
  if (request.mode === 'overwrite') return current.files;
  if (request.mode !== 'rewrite') return [];
  const byPath = new Map(current.files.map((file) => [file.path, file]));
  return (request.removes ?? []).map((removed) => {
    const file = byPath.get(removed);
    if (!file) throw new Error(`version ${current.version} has no file ${removed} to remove`);
    return file;
  });
}

/** Delta stores `add.path` as a relative URI: each segment is percent-encoded. */
function encodeDeltaPath(relativePath: string): string {
  return relativePath.split('/').map(encodeURIComponent).join('/');
}

export function decodeDeltaPath(path: string): string {
  return path.split('/').map(decodeURIComponent).join('/');
}

/** The state of `version` from its log files in order; `timestamp` until a commit says when it was made. */
function replay(root: string, version: number, logs: DeltaAction[][], timestamp: number): TableSnapshot {
  let metadata: MetadataAction | undefined;
  let commitInfo: CommitInfoAction | undefined;
  const files = new Map<string, AddAction>();
  const txns = new Map<string, number>();
  for (const actions of logs) {
    for (const action of actions) {
      if ('metaData' in action) metadata = action.metaData;
      else if ('add' in action) files.set(action.add.path, action.add);
      else if ('remove' in action) files.delete(action.remove.path);
      else if ('txn' in action) txns.set(action.txn.appId, action.txn.version);
      else if ('commitInfo' in action) commitInfo = action.commitInfo;
    }
  }
  if (!metadata) throw new Error(`${root}: the Delta log has no metaData action`);
  return {
    version,
    metadata,
    schema: JSON.parse(metadata.schemaString) as DeltaStructType,
    partitionColumns: metadata.partitionColumns,
    files: [...files.values()],
    txns,
    timestamp: commitInfo?.timestamp ?? timestamp,
    ...(commitInfo && { commitInfo }),
  };
}
