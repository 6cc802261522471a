import { rm } from 'node:fs/promises';
import { MedallionError } from '../core/errors.js';
import { describeDrift, hasDrift, schemaDrift } from '../table/schema-drift.js';
import type { Engine, StagedTable } from '../engine/engine.js';
import { joinKey } from '../storage/object-store.js';
import type { DeltaTable } from '../table/delta-table.js';
import type { TxnAction } from '../table/delta-protocol.js';

export interface WriteOptions {
  mode: 'append' | 'overwrite';
  partitionBy?: readonly string[];
  /** How many rows a data file holds at most, about (see StageOptions). */
  maxRowsPerFile?: number;
  txns?: TxnAction[];
  runId: string;
  task: string;
  /**
   * Write–audit–publish: called with a relation over the staged files before the commit; when it throws, the
   * staged files are removed and nothing is committed.
   */
  audit?: (staged: string) => Promise<void>;
  /** Refuse a version whose columns differ from the current version's (added, removed or retyped). */
  failOnSchemaDrift?: boolean;
  /**
   * The version the rows were computed from (default: the current one when the write starts); with `exclusive`,
   * the commit fails (CommitConflictError) when another writer committed since.
   */
  readVersion?: number;
  exclusive?: boolean;
  /** Hears of each step: staged, audited, committed (a try's log). */
  log?: (message: string) => void;
  /** More commitInfo fields (an incremental table's marks). */
  info?: Record<string, string>;
}

/** The view of the staged files an audit reads. */
export const STAGED_VIEW = '__staged';

/** Removes staged files that will not be committed. */
export async function discardStaged(staged: StagedTable): Promise<void> {
  const { target } = staged;
  const stored = staged.files.flatMap((file) => ('localPath' in file ? [] : [file.relativePath]));
  await Promise.all(
    staged.files.map((file) => ('localPath' in file ? rm(file.localPath, { force: true }) : undefined)),
  );
  if (target && stored.length > 0) {
    await target.store.delete(stored.map((relativePath) => joinKey(target.root, relativePath)));
  }
}

export interface WriteResult {
  version: number;
  rows: number;
  alreadyCommitted: boolean;
}

/** Stages a relation as Parquet and commits it to a Delta table in one atomic step. */
export async function writeTable(
  engine: Engine,
  relation: string,
  table: DeltaTable,
  options: WriteOptions,
): Promise<WriteResult> {
  const log = options.log ?? (() => {});
  const before = await table.snapshot();
  let started = performance.now();
  const elapsed = (): string => {
    const ms = performance.now() - started;
    started = performance.now();
    return `${ms.toFixed(0)} ms`;
  };
  const staged = await engine.stage(
    relation,
    options.partitionBy ?? [],
    table,
    options.maxRowsPerFile === undefined ? {} : { maxRowsPerFile: options.maxRowsPerFile },
  );
  const bytes = staged.files.reduce((sum, file) => sum + file.size, 0);
  log(`staged ${staged.rows} row(s) in ${staged.files.length} file(s), ${bytes} bytes (${elapsed()})`);
  if (options.audit || options.failOnSchemaDrift) {
    try {
      const drift = schemaDrift(before?.schema, staged.schema);
      if (options.failOnSchemaDrift && hasDrift(drift)) {
        throw new SchemaDriftError(
          `${options.task}: the new version's columns differ from the current one's: ${describeDrift(drift)}`,
          {
            context: { field: options.task },
            hint: "the previous version stays current; if the change is wanted, set the table's schemaDrift to 'warn' for one run",
            data: { schemaDrift: drift },
          },
        );
      }
      if (options.audit) {
        await engine.registerStaged(STAGED_VIEW, staged);
        await options.audit(engine.dialect.quoteIdent(STAGED_VIEW));
        log(`audited the staged version (${elapsed()})`);
      }
    } catch (error) {
      await discardStaged(staged);
      throw error;
    }
  }
  const txns = options.txns ?? replaceOnce(options);
  const result = await table.commit({
    mode: options.mode,
    schema: staged.schema,
    partitionColumns: [...(options.partitionBy ?? [])],
    files: staged.files,
    readVersion: options.readVersion ?? before?.version ?? -1,
    ...(txns && { txns }),
    ...(options.exclusive && { exclusive: true }),
    info: { runId: options.runId, task: options.task, ...options.info },
  });
  log(
    result.alreadyCommitted
      ? `version ${result.version} already holds this write (an earlier try committed it)`
      : `committed version ${result.version} of ${table.root} (${options.mode}, ${elapsed()})`,
  );
  return { ...result, rows: staged.rows };
}

/** A new version would change the table's columns and the table is configured to refuse that. */
export class SchemaDriftError extends MedallionError {
  override get permanent(): boolean {
    return true;
  }
}

/** A retried or resumed task of the same run does not apply its new version twice. */
function replaceOnce(options: WriteOptions): TxnAction[] | undefined {
  return options.mode === 'overwrite'
    ? [{ appId: `medallion-task-${options.runId}-${options.task}`, version: 0 }]
    : undefined;
}
