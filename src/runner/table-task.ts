import { AccountingError, CommitConflictError, ConfigError, MedallionError } from '../core/errors.js';
import { referencedTables, tableKey, type TableId } from '../core/graph.js';
import type { Refinement, SqlContext, TableDefinition } from '../core/pipeline.js';
import { quoteIdent } from '../engine/delta-types.js';
import { sqlLiteral, sqlString } from '../engine/duckdb-engine.js';
import { QUARANTINE_COLUMNS } from './quarantine.js';
import type { RunContext } from './run-context.js';
import { writeTable } from './table-writer.js';
import { snapshotRows } from '../table/delta-table.js';
import { auditVersion, ExpectationError, splitByQuarantineChecks } from './expectations.js';
import type { ExpectationResult } from '../core/expectations.js';

/** Row accounting of a refined table: rowsIn = rowsOut + deduplicated + quarantined. */
export interface Accounting {
  rowsIn: number;
  /** Input records that reached the table (a record may become several rows). */
  recordsOut: number;
  deduplicated: number;
  quarantined: number;
  quarantineReasons: Record<string, number>;
}

export interface TableReport {
  version: number;
  rows: number;
  accounting?: Accounting;
  /** What the table's expectations found on the published version. */
  expectations: ExpectationResult[];
}

interface TableOutput {
  relation: string;
  quarantine: string | undefined;
  accounting: Accounting | undefined;
  /** Rows (records, for refined tables) each quarantine expectation took. */
  expectationCounts: Map<string, number>;
}

export function viewName(id: TableId): string {
  return quoteIdent(`${id.layer}__${id.table}`);
}

export function sqlContext(
  context: Pick<RunContext, 'logicalDate' | 'runId' | 'dataInterval' | 'params'>,
): SqlContext {
  return {
    ref: (layer, table) => viewName({ layer, table }),
    logicalDate: `DATE ${sqlString(context.logicalDate)}`,
    runId: sqlString(context.runId),
    dataIntervalStart: `TIMESTAMPTZ ${sqlString(context.dataInterval.start)}`,
    dataIntervalEnd: `TIMESTAMPTZ ${sqlString(context.dataInterval.end)}`,
    param: (name) => sqlLiteral(context.params[name]),
  };
}

/** Makes the current version of each table the SQL references queryable under its view name. */
export async function registerInputs(context: RunContext, ids: readonly TableId[]): Promise<void> {
  for (const id of ids) {
    const table = context.lake.table(id);
    const snapshot = await table.snapshot();
    if (!snapshot) {
      const source = context.pipeline.sources.find((candidate) => candidate.bronzeTable === id.table);
      throw new MedallionError(`table ${tableKey(id)} does not exist yet`, {
        context: { file: table.root },
        hint: source
          ? `no file matching '${source.pattern}' has been loaded from the source yet`
          : 'run its task first',
      });
    }
    await context.engine.registerSnapshot(`${id.layer}__${id.table}`, snapshot, table.store, table.root);
    context.log(
      `reads ${tableKey(id)} version ${snapshot.version} (${snapshotRows(snapshot)} rows) as ${viewName(id)}`,
    );
  }
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

async function buildOnce(
  context: RunContext,
  definition: TableDefinition,
  task: string,
): Promise<TableReport> {
  const id: TableId = { layer: definition.layer, table: definition.name };
  await registerInputs(context, referencedTables(definition));
  const base = `__t_${definition.layer}_${definition.name}`;
  const sql = definition.sql(sqlContext(context));
  const output = definition.refine
    ? await refine(context, definition, definition.refine, sql, base)
    : await plain(context, definition, sql, base);
  const expectations = definition.expectations ?? [];
  let results: ExpectationResult[] = [];
  const audit = async (staged: string): Promise<void> => {
    results = await auditVersion(
      context.engine,
      staged,
      expectations,
      sqlContext(context),
      output.expectationCounts,
      new Date(),
    );
    if (results.some((result) => !result.passed && result.action === 'fail')) {
      throw new ExpectationError(tableKey(id), results);
    }
  };
  if (output.accounting) context.log(`accounting: ${describeAccounting(output.accounting)}`);
  const written = await writeTable(context.engine, output.relation, context.lake.table(id), {
    log: (message) => context.log(message),
    mode: 'overwrite',
    partitionBy: definition.partitionBy ?? [],
    runId: context.runId,
    task,
    ...(expectations.length > 0 && { audit }),
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
    expectations: results,
  };
}

/** "8974 records in = 8039 out + 915 deduplicated + 7 quarantined (no_titulaire 7)" */
function describeAccounting(accounting: Accounting): string {
  const reasons = Object.entries(accounting.quarantineReasons)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  return (
    `${accounting.rowsIn} records in = ${accounting.recordsOut} out + ${accounting.deduplicated} deduplicated + ` +
    `${accounting.quarantined} quarantined${reasons ? ` (${reasons})` : ''}`
  );
}

/** A table without refinement: its SQL's rows, less those a quarantine expectation takes. */
async function plain(
  context: RunContext,
  definition: TableDefinition,
  sql: string,
  base: string,
): Promise<TableOutput> {
  await context.engine.run(`CREATE OR REPLACE TEMP VIEW ${base} AS ${sql}`);
  const split = await splitByQuarantineChecks(
    context.engine,
    base,
    `${base}_exp`,
    definition.expectations ?? [],
    sqlContext(context),
  );
  if (!split)
    return { relation: base, quarantine: undefined, accounting: undefined, expectationCounts: new Map() };
  const quarantine = `${base}_quarantine`;
  await context.engine.run(`
    CREATE OR REPLACE TEMP TABLE ${quarantine} AS
    SELECT ${quarantineColumns(context, await rowAsJson(context.engine, split.failed), 'NULL::VARCHAR')}
    FROM ${split.failed}`);
  return { relation: split.kept, quarantine, accounting: undefined, expectationCounts: split.counts };
}

/** The quarantine table's columns for rows of a relation carrying their reason in `__expectation`. */
function quarantineColumns(context: RunContext, record: string, recordId: string): string {
  return `${QUARANTINE_COLUMNS.runId(context)}, __expectation AS reason, ${recordId} AS record_id,
    ${record} AS record, 'expectation' AS detail, ${QUARANTINE_COLUMNS.now()}`;
}

/** The row (without the expectation column) as JSON text. */
async function rowAsJson(engine: RunContext['engine'], relation: string): Promise<string> {
  const columns = (await engine.columns(relation)).filter((column) => column.name !== '__expectation');
  return `to_json({${columns.map((column) => `${sqlString(column.name)}: ${quoteIdent(column.name)}`).join(', ')}})::VARCHAR`;
}

async function refine(
  context: RunContext,
  definition: TableDefinition,
  rules: Refinement,
  sql: string,
  base: string,
): Promise<TableOutput> {
  const { engine } = context;
  const recordId = quoteIdent(rules.recordId);
  const records = `${base}_records`;
  await engine.run(`CREATE OR REPLACE TEMP VIEW ${records} AS ${sql}`);
  const rowsIn = await engine.count(viewName(rules.input));
  const recordCount = await engine.count(records);
  if (recordCount !== rowsIn) {
    throw new AccountingError(
      `the SQL of ${definition.layer}.${definition.name} returned ${recordCount} records for ${rowsIn} input rows`,
      {
        context: { field: `tables.${definition.name}.sql` },
        hint: "a refined table's SQL must return one row per input row: filter with quarantine rules, not WHERE",
      },
    );
  }
  const groupKey = rules.dedupe
    ? `CASE WHEN (${rules.dedupe.key}) IS NULL THEN 'record:' || ${recordId} ELSE 'key:' || (${rules.dedupe.key})::VARCHAR END`
    : recordId;
  const order = rules.dedupe?.orderBy ?? recordId;
  const reasons = rules.quarantine ?? [];
  const reason = reasons.length
    ? `CASE ${reasons.map((rule) => `WHEN (${rule.when}) THEN ${sqlString(rule.reason)}`).join(' ')} END`
    : 'NULL::VARCHAR';
  const ranked = `${base}_ranked`;
  await engine.run(`
    CREATE OR REPLACE TEMP TABLE ${ranked} AS
    SELECT *, row_number() OVER (PARTITION BY ${groupKey} ORDER BY ${order}) AS __rank,
      CASE WHEN __rank = 1 THEN ${reason} END AS __reason
    FROM ${records}`);
  const quarantine = `${base}_quarantine`;
  await engine.run(`
    CREATE OR REPLACE TEMP TABLE ${quarantine} AS
    SELECT ${QUARANTINE_COLUMNS.runId(context)}, __reason AS reason, ${recordId}::VARCHAR AS record_id,
      to_json(${await recordStruct(engine, records)})::VARCHAR AS record, NULL::VARCHAR AS detail, ${QUARANTINE_COLUMNS.now()}
    FROM ${ranked} WHERE __reason IS NOT NULL`);
  const survivors = `${base}_survivors`;
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${survivors} AS SELECT * EXCLUDE (__rank, __reason) FROM ${ranked} WHERE __rank = 1 AND __reason IS NULL`,
  );
  const shaped = `${base}_shaped`;
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${shaped} AS ${rules.shape ? rules.shape(survivors) : `SELECT * FROM ${survivors}`}`,
  );
  const columns = (await engine.columns(shaped)).map((column) => column.name);
  if (!columns.includes(rules.recordId)) {
    throw new ConfigError(
      `the shape of ${definition.layer}.${definition.name} drops the record id column ${rules.recordId}`,
      {
        context: { field: `tables.${definition.name}.refine.shape` },
        hint: 'keep it in the SELECT: medallion counts records with it and removes it before writing',
      },
    );
  }
  // Records with a row failing a quarantine expectation go to the quarantine whole, under its name.
  const split = await splitByQuarantineChecks(
    engine,
    shaped,
    `${base}_exp`,
    definition.expectations ?? [],
    sqlContext(context),
  );
  let published = shaped;
  const expectationCounts = new Map<string, number>();
  if (split) {
    published = `${base}_published`;
    await engine.run(
      `CREATE OR REPLACE TEMP VIEW ${published} AS SELECT * FROM ${shaped} WHERE ${recordId} NOT IN (SELECT ${recordId} FROM ${split.failed})`,
    );
    await engine.run(`
      INSERT INTO ${quarantine}
      SELECT ${quarantineColumns(context, await rowAsJson(engine, split.failed), `${recordId}::VARCHAR`)}
      FROM ${split.failed}
      QUALIFY row_number() OVER (PARTITION BY ${recordId}) = 1`);
    const taken = await engine.all<{ reason: string; n: number }>(
      `SELECT reason, count(*)::BIGINT AS n FROM ${quarantine} WHERE detail = 'expectation' GROUP BY reason`,
    );
    for (const row of taken) expectationCounts.set(row.reason, Number(row.n));
  }
  const counts = await engine.one<{ out: number; dedup: number }>(`
    SELECT (SELECT count(DISTINCT ${recordId}) FROM ${published})::BIGINT AS out,
           (SELECT count(*) FROM ${ranked} WHERE __rank > 1)::BIGINT AS dedup`);
  const byReason = await engine.all<{ reason: string; n: number }>(
    `SELECT reason, count(*)::BIGINT AS n FROM ${quarantine} GROUP BY reason ORDER BY reason`,
  );
  const accounting: Accounting = {
    rowsIn,
    recordsOut: Number(counts.out),
    deduplicated: Number(counts.dedup),
    quarantined: byReason.reduce((sum, row) => sum + Number(row.n), 0),
    quarantineReasons: Object.fromEntries(byReason.map((row) => [row.reason, Number(row.n)])),
  };
  assertBalanced(`${definition.layer}.${definition.name}`, accounting);
  return {
    relation: `(SELECT * EXCLUDE (${recordId}) FROM ${published})`,
    quarantine,
    accounting,
    expectationCounts,
  };
}

/** The whole record as one struct, so the quarantine keeps it in a single JSON column. */
async function recordStruct(engine: RunContext['engine'], relation: string): Promise<string> {
  const columns = await engine.columns(relation);
  return `{${columns.map((column) => `${sqlString(column.name)}: ${quoteIdent(column.name)}`).join(', ')}}`;
}

export function assertBalanced(table: string, accounting: Accounting): void {
  const { rowsIn, recordsOut, deduplicated, quarantined } = accounting;
  if (rowsIn !== recordsOut + deduplicated + quarantined) {
    throw new AccountingError(
      `${table}: ${rowsIn} rows in ≠ ${recordsOut} out + ${deduplicated} deduplicated + ${quarantined} quarantined`,
      {
        context: { field: table },
        hint: "the table's shape SQL loses or invents records; every input record must be kept, deduplicated or quarantined",
      },
    );
  }
}
