/**
 * Refinement: input records → deduplicated (the first record per key by the rules' order wins), quarantined (the
 * winner matches a quarantine rule, or a row of it fails a quarantine expectation) or published, every record
 * accounted for. The same steps run over all the input (a full refresh) or over the records that arrived since the
 * last increment, each competing with its key's current winner (an increment): the first by a total order among
 * the previous winner and the new records is the first among all records, so both decide alike.
 */
import { AccountingError, ConfigError } from '../core/errors.js';
import type { Refinement, TableDefinition } from '../core/pipeline.js';
import type { Engine } from '../engine/engine.js';
import { columnList, splitByQuarantineChecks } from './expectations.js';
import { QUARANTINE_COLUMNS, quarantineColumns, rowAsJson } from './quarantine.js';
import type { RunContext } from './run-context.js';
import { engineSqlContext, viewName } from './sql-context.js';

/** Row accounting of a refined table: rowsIn = recordsOut + deduplicated + quarantined. */
export interface Accounting {
  rowsIn: number;
  /** Input records that reached the table (a record may become several rows). */
  recordsOut: number;
  deduplicated: number;
  quarantined: number;
  quarantineReasons: Record<string, number>;
  /** An increment: earlier winners that a new record outranked (their rows left the table and its quarantine). */
  replaced?: number;
}

/** The column holding each record's dedupe group, in the dedupe state of an incremental table. */
export const GROUP_COLUMN = '__group';

export interface RefineOutput {
  /** The rows to publish, without the record id. */
  relation: string;
  /** Quarantine rows of this refinement's records. */
  quarantine: string;
  accounting: Accounting;
  /** Records each quarantine expectation took. */
  expectationCounts: Map<string, number>;
  /** The record that now ranks first per group (records' columns and GROUP_COLUMN): all of them, or the new ones. */
  winners: string;
  /** An increment: the winners it outranked (records' columns and GROUP_COLUMN). */
  displaced?: string;
  /** Their published rows, as the shape makes them: for the keys they leave in the table. */
  displacedRows?: string;
}

/**
 * Refines the records of `sql` (one per row of the rules' input view). With `previousWinners` (a relation of the
 * dedupe state), an increment: the new records compete with the winners of their groups.
 */
export async function refine(
  context: RunContext,
  definition: TableDefinition,
  rules: Refinement,
  sql: string,
  base: string,
  previousWinners?: string,
): Promise<RefineOutput> {
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
  const recordColumns = (await engine.columns(records)).map((column) => column.name);
  const listed = [...recordColumns, GROUP_COLUMN].map((name) => dialect.quoteIdent(name)).join(', ');
  const group = dialect.quoteIdent(GROUP_COLUMN);
  const groupKey = rules.dedupe
    ? `CASE WHEN (${rules.dedupe.key}) IS NULL THEN 'record:' || CAST(${recordId} AS STRING) ` +
      `ELSE 'key:' || CAST((${rules.dedupe.key}) AS STRING) END`
    : `CAST(${recordId} AS STRING)`;
  const grouped = `SELECT *, ${groupKey} AS ${group} FROM ${records}`;
  const candidates = previousWinners
    ? `SELECT ${listed}, false AS __prev FROM (${grouped}) AS fresh
      UNION ALL SELECT ${listed}, true AS __prev FROM ${previousWinners}
      WHERE ${group} IN (SELECT ${GROUP_COLUMN} FROM (${grouped}) AS touched)`
    : `SELECT *, false AS __prev FROM (${grouped}) AS fresh`;
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
    FROM (SELECT *, row_number() OVER (PARTITION BY ${group} ORDER BY ${order}) AS __rank FROM (${candidates}) AS c) AS numbered`,
  );
  // A previous winner that still ranks first changes nothing: only new records can win, be kept or quarantined.
  const fresh = `${ranked} WHERE __rank = 1 AND NOT __prev`;
  const ruled = `${base}_quarantine`;
  await engine.materialize(
    ruled,
    `SELECT ${QUARANTINE_COLUMNS.runId(dialect, context.runId)}, __reason AS reason,
      CAST(${recordId} AS STRING) AS record_id, ${dialect.jsonObject(recordColumns)} AS record,
      CAST(NULL AS STRING) AS detail, ${QUARANTINE_COLUMNS.now()}
    FROM ${fresh} AND __reason IS NOT NULL`,
  );
  const only = recordColumns.map((name) => dialect.quoteIdent(name)).join(', ');
  const survivors = `${base}_survivors`;
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${survivors} AS SELECT ${only} FROM ${fresh} AND __reason IS NULL`,
  );
  const shaped = await shape(context, definition, rules, survivors, `${base}_shaped`);
  const taken = await takeFailingRecords(context, definition, shaped, base, recordId);
  const published = taken?.published ?? shaped;
  const quarantine = taken ? `${base}_quarantine_all` : ruled;
  if (taken) {
    await engine.run(
      `CREATE OR REPLACE TEMP VIEW ${quarantine} AS SELECT * FROM ${ruled} UNION ALL SELECT * FROM ${taken.quarantine}`,
    );
  }
  const accounting = await account(engine, published, ranked, quarantine, recordId, rowsIn);
  if (previousWinners)
    accounting.replaced = await engine.count(`(SELECT 1 FROM ${ranked} WHERE __prev AND __rank > 1) AS r`);
  assertBalanced(`${definition.layer}.${definition.name}`, accounting);
  const columns = (await engine.columns(published)).map((column) => column.name);
  const kept = columns.filter((name) => name !== rules.recordId).map((name) => dialect.quoteIdent(name));
  const winners = `${base}_winners`;
  await engine.run(`CREATE OR REPLACE TEMP VIEW ${winners} AS SELECT ${listed} FROM ${fresh}`);
  const output: RefineOutput = {
    relation: `(SELECT ${kept.join(', ')} FROM ${published})`,
    quarantine,
    accounting,
    expectationCounts: taken?.counts ?? new Map(),
    winners,
  };
  if (!previousWinners) return output;
  const displaced = `${base}_displaced`;
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${displaced} AS SELECT ${listed} FROM ${ranked} WHERE __prev AND __rank > 1`,
  );
  const displacedRecords = `${base}_displaced_records`;
  await engine.run(`CREATE OR REPLACE TEMP VIEW ${displacedRecords} AS SELECT ${only} FROM ${displaced}`);
  const displacedRows = await shape(context, definition, rules, displacedRecords, `${base}_displaced_shaped`);
  return { ...output, displaced, displacedRows };
}

/** The rules' shape of `records` as the view `name`, which must keep the record id. */
async function shape(
  context: RunContext,
  definition: TableDefinition,
  rules: Refinement,
  records: string,
  name: string,
): Promise<string> {
  const { engine } = context;
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${name} AS ${rules.shape ? rules.shape(records, engineSqlContext(context)) : `SELECT * FROM ${records}`}`,
  );
  const columns = (await engine.columns(name)).map((column) => column.name);
  if (!columns.includes(rules.recordId)) {
    throw new ConfigError(
      `the shape of ${definition.layer}.${definition.name} drops the record id column ${rules.recordId}`,
      {
        context: { field: `tables.${definition.name}.refine.shape` },
        hint: 'keep it in the SELECT: medallion counts records with it and removes it before writing',
      },
    );
  }
  return name;
}

async function account(
  engine: Engine,
  published: string,
  ranked: string,
  quarantine: string,
  recordId: string,
  rowsIn: number,
): Promise<Accounting> {
  const counts = await engine.one<{ out: number; dedup: number }>(`
    SELECT (SELECT count(DISTINCT ${recordId}) FROM ${published}) AS out,
           (SELECT count(*) FROM ${ranked} WHERE __rank > 1 AND NOT __prev) AS dedup`);
  const byReason = await engine.all<{ reason: string; n: number }>(
    `SELECT reason, count(*) AS n FROM ${quarantine} GROUP BY reason ORDER BY reason`,
  );
  return {
    rowsIn,
    recordsOut: Number(counts.out),
    deduplicated: Number(counts.dedup),
    quarantined: byReason.reduce((sum, row) => sum + Number(row.n), 0),
    quarantineReasons: Object.fromEntries(byReason.map((row) => [row.reason, Number(row.n)])),
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
  const split = await splitByQuarantineChecks(
    engine,
    shaped,
    `${base}_exp`,
    definition.expectations ?? [],
    engineSqlContext(context),
  );
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

/** "8974 records in = 8039 out + 915 deduplicated + 7 quarantined (no_titulaire 7)" */
export function describeAccounting(accounting: Accounting): string {
  const reasons = Object.entries(accounting.quarantineReasons)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const replaced = accounting.replaced ? `; ${accounting.replaced} earlier record(s) replaced` : '';
  return (
    `${accounting.rowsIn} records in = ${accounting.recordsOut} out + ${accounting.deduplicated} deduplicated + ` +
    `${accounting.quarantined} quarantined${reasons ? ` (${reasons})` : ''}${replaced}`
  );
}
