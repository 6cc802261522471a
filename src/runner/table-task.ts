import { AccountingError, CommitConflictError, ConfigError, MedallionError } from '../core/errors.js';
import { referencedTables, tableKey, type TableId } from '../core/graph.js';
import type { Refinement, SqlContext, TableDefinition } from '../core/pipeline.js';
import type { Dialect } from '../engine/dialect.js';
import type { Engine } from '../engine/engine.js';
import { QUARANTINE_COLUMNS } from './quarantine.js';
import type { RunContext, RunInfo } from './run-context.js';
import { writeTable } from './table-writer.js';
import { snapshotRows } from '../table/delta-table.js';
import { auditVersion, columnList, ExpectationError, splitByQuarantineChecks } from './expectations.js';
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

export function viewName(id: TableId, dialect: Dialect): string {
  return dialect.quoteIdent(`${id.layer}__${id.table}`);
}

/** What a table's SQL function is given, its literals written for the engine that will run it. */
export function sqlContext(
  context: Pick<RunInfo, 'logicalDate' | 'runId' | 'dataInterval' | 'params'>,
  dialect: Dialect,
): SqlContext {
  return {
    engine: dialect.kind,
    ref: (layer, table) => viewName({ layer, table }, dialect),
    logicalDate: `DATE ${dialect.string(context.logicalDate)}`,
    runId: dialect.string(context.runId),
    dataIntervalStart: dialect.timestampLiteral(context.dataInterval.start),
    dataIntervalEnd: dialect.timestampLiteral(context.dataInterval.end),
    param: (name) => dialect.literal(context.params[name]),
  };
}

/** The SQL context of the run's refined-table engine. */
export function engineSqlContext(context: RunContext): SqlContext {
  return sqlContext(context, context.engine.dialect);
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
      `reads ${tableKey(id)} version ${snapshot.version} (${snapshotRows(snapshot)} rows) as ${viewName(id, context.engine.dialect)}`,
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
  const sql = definition.sql(engineSqlContext(context));
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
      engineSqlContext(context),
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
  const { engine } = context;
  await engine.run(`CREATE OR REPLACE TEMP VIEW ${base} AS ${sql}`);
  const split = await splitTable(context, definition, base, base);
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

/** The rows of `relation` the table's quarantine expectations take, and the others. */
function splitTable(context: RunContext, definition: TableDefinition, relation: string, base: string) {
  const expectations = definition.expectations ?? [];
  return splitByQuarantineChecks(
    context.engine,
    relation,
    `${base}_exp`,
    expectations,
    engineSqlContext(context),
  );
}

/** The quarantine table's columns for rows of a relation carrying their reason in `__expectation`. */
function quarantineColumns(context: RunContext, record: string, recordId: string): string {
  return `${QUARANTINE_COLUMNS.runId(context.engine.dialect, context.runId)}, __expectation AS reason,
    ${recordId} AS record_id, ${record} AS record, 'expectation' AS detail, ${QUARANTINE_COLUMNS.now()}`;
}

/** The row (without the expectation column) as JSON text. */
async function rowAsJson(engine: Engine, relation: string): Promise<string> {
  const columns = (await engine.columns(relation)).filter((column) => column.name !== '__expectation');
  return engine.dialect.jsonObject(columns.map((column) => column.name));
}

async function refine(
  context: RunContext,
  definition: TableDefinition,
  rules: Refinement,
  sql: string,
  base: string,
): Promise<TableOutput> {
  const { engine } = context;
  const { dialect } = engine;
  const recordId = dialect.quoteIdent(rules.recordId);
  const records = `${base}_records`;
  await engine.run(`CREATE OR REPLACE TEMP VIEW ${records} AS ${sql}`);
  const rowsIn = await engine.count(viewName(rules.input, dialect));
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
    ? `CASE WHEN (${rules.dedupe.key}) IS NULL THEN 'record:' || CAST(${recordId} AS STRING) ` +
      `ELSE 'key:' || CAST((${rules.dedupe.key}) AS STRING) END`
    : recordId;
  const order = rules.dedupe?.orderBy ?? recordId;
  const reasons = rules.quarantine ?? [];
  const reason = reasons.length
    ? `CASE ${reasons.map((rule) => `WHEN (${rule.when}) THEN ${dialect.string(rule.reason)}`).join(' ')} END`
    : 'CAST(NULL AS STRING)';
  const ranked = `${base}_ranked`;
  // The rank is computed in a subquery and used outside it: neither QUALIFY nor a window's alias in its own SELECT.
  await engine.materialize(
    ranked,
    `SELECT *, CASE WHEN __rank = 1 THEN ${reason} END AS __reason
    FROM (SELECT *, row_number() OVER (PARTITION BY ${groupKey} ORDER BY ${order}) AS __rank FROM ${records}) AS numbered`,
  );
  const recordColumns = (await engine.columns(records)).map((column) => column.name);
  const ruled = `${base}_quarantine`;
  await engine.materialize(
    ruled,
    `SELECT ${QUARANTINE_COLUMNS.runId(dialect, context.runId)}, __reason AS reason,
      CAST(${recordId} AS STRING) AS record_id, ${dialect.jsonObject(recordColumns)} AS record,
      CAST(NULL AS STRING) AS detail, ${QUARANTINE_COLUMNS.now()}
    FROM ${ranked} WHERE __reason IS NOT NULL`,
  );
  const survivors = `${base}_survivors`;
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${survivors} AS SELECT ${recordColumns.map((name) => dialect.quoteIdent(name)).join(', ')}
    FROM ${ranked} WHERE __rank = 1 AND __reason IS NULL`,
  );
  const shaped = `${base}_shaped`;
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${shaped} AS ${rules.shape ? rules.shape(survivors, engineSqlContext(context)) : `SELECT * FROM ${survivors}`}`,
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
  const taken = await takeFailingRecords(context, definition, shaped, base, recordId);
  const published = taken?.published ?? shaped;
  const quarantine = taken ? `${base}_quarantine_all` : ruled;
  if (taken) {
    await engine.run(
      `CREATE OR REPLACE TEMP VIEW ${quarantine} AS SELECT * FROM ${ruled} UNION ALL SELECT * FROM ${taken.quarantine}`,
    );
  }
  const counts = await engine.one<{ out: number; dedup: number }>(`
    SELECT (SELECT count(DISTINCT ${recordId}) FROM ${published}) AS out,
           (SELECT count(*) FROM ${ranked} WHERE __rank > 1) AS dedup`);
  const byReason = await engine.all<{ reason: string; n: number }>(
    `SELECT reason, count(*) AS n FROM ${quarantine} GROUP BY reason ORDER BY reason`,
  );
  const accounting: Accounting = {
    rowsIn,
    recordsOut: Number(counts.out),
    deduplicated: Number(counts.dedup),
    quarantined: byReason.reduce((sum, row) => sum + Number(row.n), 0),
    quarantineReasons: Object.fromEntries(byReason.map((row) => [row.reason, Number(row.n)])),
  };
  assertBalanced(`${definition.layer}.${definition.name}`, accounting);
  const kept = columns.filter((name) => name !== rules.recordId).map((name) => dialect.quoteIdent(name));
  return {
    relation: `(SELECT ${kept.join(', ')} FROM ${published})`,
    quarantine,
    accounting,
    expectationCounts: taken?.counts ?? new Map(),
  };
}

/**
 * Records with a row failing a quarantine expectation go to the quarantine whole, under its name: the relation of
 * the records kept, the quarantine rows (one per record) and how many records each expectation took.
 */
async function takeFailingRecords(
  context: RunContext,
  definition: TableDefinition,
  shaped: string,
  base: string,
  recordId: string,
): Promise<{ published: string; quarantine: string; counts: Map<string, number> } | undefined> {
  const { engine } = context;
  const split = await splitTable(context, definition, shaped, base);
  if (!split) return undefined;
  const published = `${base}_published`;
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${published} AS SELECT * FROM ${shaped} WHERE ${recordId} NOT IN (SELECT ${recordId} FROM ${split.failed})`,
  );
  // One row per record: its first failing row, by expectation name.
  const quarantine = `${base}_quarantine_exp`;
  await engine.materialize(
    quarantine,
    `SELECT ${quarantineColumns(context, await rowAsJson(engine, split.failed), `CAST(${recordId} AS STRING)`)}
    FROM (SELECT ${await columnList(engine, split.failed)},
      row_number() OVER (PARTITION BY ${recordId} ORDER BY __expectation) AS __first FROM ${split.failed}) AS failed
    WHERE __first = 1`,
  );
  const rows = await engine.all<{ reason: string; n: number }>(
    `SELECT reason, count(*) AS n FROM ${quarantine} GROUP BY reason`,
  );
  return { published, quarantine, counts: new Map(rows.map((row) => [row.reason, Number(row.n)])) };
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
