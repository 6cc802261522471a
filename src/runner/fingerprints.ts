import { createHash } from 'node:crypto';
import { referencedTables, tableKey, type Task, type TableId } from '../core/graph.js';
import { macrosFor, type TableDefinition } from '../core/pipeline.js';
import { tableDefinitionOf } from '../core/task-plan.js';
import type { Dialect } from '../engine/dialect.js';
import type { LakeLayout } from '../table/lake-layout.js';
import type { DeltaTable } from '../table/delta-table.js';
import { writtenVersion } from '../table/restore.js';
import { sqlContext } from './sql-context.js';
import type { RunInfo } from './run-context.js';

/**
 * What a task's inputs look like, as one hash: the code or SQL that defines it, the versions of the tables it
 * reads and of the table it writes (a version written by anyone else makes it run again). Equal to the
 * fingerprint of its last success → the task is skipped.
 *
 * Its own table counts by the last version a writer made, not by restores on top of it (`writtenVersion`): a
 * restore is a person's decision that the next run must keep, not a write to undo, so it leaves the fingerprint
 * as the last success left it and the task is skipped until its inputs change. The tables that read the restored
 * one see a new version among their inputs and are rebuilt. Reading this from the table's own log (rather than
 * having the restore rewrite the stored fingerprint) holds whichever metadata database runs it, after a backup is
 * brought back, and for a RESTORE another Delta engine committed. Ingest always runs (it must look for new files);
 * quality_check always runs (it reads statistics only). `dialect` is that of the engine running refined tables: their
 * SQL and macros differ per engine.
 */
export async function taskFingerprint(
  context: RunInfo,
  task: Task,
  dialect: Dialect,
): Promise<string | undefined> {
  switch (task.kind) {
    case 'bronze': {
      const source = context.pipeline.sources.find(
        (candidate) => candidate.bronzeTable === task.output?.table,
      );
      if (!source || !task.output || context.retryRejected) return undefined;
      return digest([
        'bronze',
        context.lake.location,
        JSON.stringify(source),
        // Every landed copy of the source's files (a new one lands under a new key).
        ...(await context.lake.landing().list(`${source.name}/`)).map(
          (object) => `${object.key}:${object.size}`,
        ),
        await writtenVersion(context.lake.table(task.output)),
      ]);
    }
    case 'table': {
      const definition = tableDefinitionOf(context.pipeline, task);
      if (!definition || !task.output) return undefined;
      const inputs = await Promise.all(
        referencedTables(definition).map(
          async (id) => `${tableKey(id)}@${await latestVersion(context.lake.table(id))}`,
        ),
      );
      return digest([
        'table',
        context.lake.location,
        definitionText(context, definition, dialect),
        ...macrosFor(context.pipeline, dialect.kind),
        ...inputs.sort(),
        await outputVersions(context.lake, task.output, definition),
      ]);
    }
    default:
      return undefined;
  }
}

/**
 * What an incremental table's content follows from besides its inputs' rows: its SQL and rules as this run would
 * execute them, its quarantine checks and the engine's macros. A change makes the next refresh a full one.
 */
export function refinementDigest(context: RunInfo, definition: TableDefinition, dialect: Dialect): string {
  const sqlContextOfRun = sqlContext(context, dialect);
  const checks = (definition.expectations ?? [])
    .filter((expectation) => expectation.action === 'quarantine')
    .map((expectation) =>
      expectation.type === 'sql'
        ? { ...expectation, predicate: expectation.predicate(sqlContextOfRun) }
        : expectation,
    );
  return digest([
    'refinement',
    dialect.kind,
    definitionText(context, definition, dialect),
    JSON.stringify(checks),
    ...macrosFor(context.pipeline, dialect.kind),
  ]);
}

/** The SQL as this run would execute it (logical date and parameters included), and the refinement rules. */
function definitionText(context: RunInfo, definition: TableDefinition, dialect: Dialect): string {
  const sqlContextOfRun = sqlContext(context, dialect);
  return JSON.stringify({
    sql: definition.sql(sqlContextOfRun),
    refine: definition.refine && {
      ...definition.refine,
      shape: definition.refine.shape?.('__records', sqlContextOfRun),
    },
    partitionBy: definition.partitionBy,
    key: definition.key,
  });
}

async function outputVersions(
  lake: LakeLayout,
  output: TableId,
  definition: TableDefinition,
): Promise<string> {
  const own = await writtenVersion(lake.table(output));
  return definition.refine ? `${own}/${await latestVersion(lake.quarantine(output))}` : String(own);
}

async function latestVersion(table: DeltaTable): Promise<number> {
  return (await table.versions()).at(-1) ?? -1;
}

function digest(parts: readonly (string | number)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(String(part)).update('\0');
  return hash.digest('hex');
}
