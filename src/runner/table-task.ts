import { CommitConflictError } from '../core/errors.js';
import type { ExpectationResult } from '../core/expectations.js';
import { referencedTables, type TableId } from '../core/graph.js';
import type { TableDefinition } from '../core/pipeline.js';
import { auditVersion, ExpectationError, splitByQuarantineChecks } from './expectations.js';
import { buildIncrementally } from './incremental.js';
import { quarantineColumns, rowAsJson } from './quarantine.js';
import { describeAccounting, refine, type Accounting } from './refine.js';
import type { RunContext } from './run-context.js';
import { engineSqlContext, registerInputs } from './sql-context.js';
import { writeTable } from './table-writer.js';

export interface TableReport {
  version: number;
  rows: number;
  accounting?: Accounting;
  /** What the table's expectations found on the published version. */
  expectations: ExpectationResult[];
  /** An incremental table: how it was refreshed this time, and why when rebuilt whole. */
  refresh?: { kind: 'full' | 'increment'; reason?: string };
}

/** Recomputations a table task makes after losing a commit race, before it fails. */
export const COMMIT_RACE_ATTEMPTS = 3;

/**
 * Computes a silver or gold table from its inputs and commits it as the table's new version. Another writer (a run
 * of another metadata database on the same lake) committing the table first makes the task read the inputs again,
 * recompute and commit on the new version, a bounded number of times.
 */
export async function buildTable(
  context: RunContext,
  definition: TableDefinition,
  task: string,
): Promise<TableReport> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await buildOnce(context, definition, task);
    } catch (error) {
      if (!(error instanceof CommitConflictError) || attempt >= COMMIT_RACE_ATTEMPTS) throw error;
      context.log(
        `lost a commit race (${error.message}); reading the inputs again and recomputing ` +
          `(try ${attempt + 1} of ${COMMIT_RACE_ATTEMPTS})`,
      );
    }
  }
}

/** Write–audit–publish of a table's expectations: the audit a write calls, and what it found. */
export interface Auditor {
  /** Audits `version`; `changed`: its rows this write added, where the samples of failing rows come from first. */
  audit?: (version: string, changed?: string) => Promise<void>;
  results(): ExpectationResult[];
}

export function auditorFor(
  context: RunContext,
  definition: TableDefinition,
  expectationCounts: Map<string, number>,
): Auditor {
  const expectations = definition.expectations ?? [];
  let results: ExpectationResult[] = [];
  const audit = async (version: string, changed?: string): Promise<void> => {
    results = await auditVersion(
      context.engine,
      { version, ...(changed !== undefined && { changed }) },
      expectations,
      engineSqlContext(context),
      expectationCounts,
      new Date(),
    );
    if (results.some((result) => !result.passed && result.action === 'fail')) {
      throw new ExpectationError(`${definition.layer}.${definition.name}`, results);
    }
  };
  return { ...(expectations.length > 0 && { audit }), results: () => results };
}

async function buildOnce(
  context: RunContext,
  definition: TableDefinition,
  task: string,
): Promise<TableReport> {
  const id: TableId = { layer: definition.layer, table: definition.name };
  const inputs = await registerInputs(context, referencedTables(definition));
  const base = `__t_${definition.layer}_${definition.name}`;
  const sql = definition.sql(engineSqlContext(context));
  if (definition.refine && definition.incremental) {
    return buildIncrementally(context, definition, definition.refine, { task, sql, base, inputs });
  }
  const output = definition.refine
    ? await refine(context, definition, definition.refine, sql, base)
    : await plain(context, definition, sql, base);
  if (output.accounting) context.log(`accounting: ${describeAccounting(output.accounting)}`);
  const auditor = auditorFor(context, definition, output.expectationCounts);
  const written = await writeTable(context.engine, output.relation, context.lake.table(id), {
    log: (message) => context.log(message),
    mode: 'overwrite',
    partitionBy: definition.partitionBy ?? [],
    runId: context.runId,
    task,
    ...(auditor.audit && { audit: auditor.audit }),
    failOnSchemaDrift: definition.schemaDrift === 'fail',
  });
  // The quarantine mirrors the table's version: both are recomputed from the current inputs.
  if (output.quarantine) {
    await writeTable(context.engine, output.quarantine, context.lake.quarantine(id), {
      log: (message) => context.log(`quarantine: ${message}`),
      mode: 'overwrite',
      runId: context.runId,
      task,
    });
  }
  return {
    version: written.version,
    rows: written.rows,
    ...(output.accounting ? { accounting: output.accounting } : {}),
    expectations: auditor.results(),
  };
}

/** A table without refinement: its SQL's rows, less those a quarantine expectation takes. */
async function plain(
  context: RunContext,
  definition: TableDefinition,
  sql: string,
  base: string,
): Promise<{
  relation: string;
  quarantine: string | undefined;
  accounting: undefined;
  expectationCounts: Map<string, number>;
}> {
  const { engine } = context;
  await engine.run(`CREATE OR REPLACE TEMP VIEW ${base} AS ${sql}`);
  const split = await splitByQuarantineChecks(
    engine,
    base,
    `${base}_exp`,
    definition.expectations ?? [],
    engineSqlContext(context),
  );
  if (!split)
    return { relation: base, quarantine: undefined, accounting: undefined, expectationCounts: new Map() };
  const quarantine = `${base}_quarantine`;
  await engine.materialize(
    quarantine,
    `SELECT ${quarantineColumns(context, await rowAsJson(engine, split.failed), 'CAST(NULL AS STRING)')}
    FROM ${split.failed}`,
  );
  return { relation: split.kept, quarantine, accounting: undefined, expectationCounts: split.counts };
}
