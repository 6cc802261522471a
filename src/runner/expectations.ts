import { MedallionError } from '../core/errors.js';
import {
  isRowExpectation,
  type Expectation,
  type ExpectationResult,
  type RowExpectation,
  type TableExpectation,
} from '../core/expectations.js';
import type { SqlContext } from '../core/pipeline.js';
import { parseDuration } from '../core/schedule.js';
import type { Dialect } from '../engine/dialect.js';
import type { Engine, SqlValue } from '../engine/engine.js';

/** Rows shown per failing check: enough to see the problem, small enough for a log line. */
const SAMPLES = 5;

/** A `fail` expectation broke: the new version is not published. Another try would find the same data. */
export class ExpectationError extends MedallionError {
  constructor(
    table: string,
    readonly results: ExpectationResult[],
  ) {
    const broken = results.filter((result) => !result.passed && result.action === 'fail');
    super(`${table}: ${broken.map(describeResult).join('; ')} — the new version was not published`, {
      context: { field: table },
      hint: 'the previous version stays current; fix the data or the expectation, then run again',
      data: { expectations: results },
    });
  }

  override get permanent(): boolean {
    return true;
  }
}

export function describeResult(result: ExpectationResult): string {
  const what =
    result.observed !== undefined ? `observed ${result.observed}` : `${result.failingRows} failing row(s)`;
  const sample = result.samples.length ? `, e.g. ${JSON.stringify(result.samples[0])}` : '';
  return `expectation ${result.name} (${result.type}, ${result.action}) failed: ${what}${sample}`;
}

/** SQL true for a row that meets the check (NULLs pass every check but not_null). */
export function passExpression(expectation: RowExpectation, context: SqlContext, dialect: Dialect): string {
  const quoteIdent = (name: string) => dialect.quoteIdent(name);
  const literal = (value: string | number | boolean) =>
    typeof value === 'string' ? dialect.string(value) : String(value);
  switch (expectation.type) {
    case 'not_null':
      return `(${quoteIdent(expectation.column)} IS NOT NULL)`;
    case 'unique': {
      const columns = expectation.columns.map(quoteIdent);
      const anyNull = columns.map((column) => `${column} IS NULL`).join(' OR ');
      return `(${anyNull} OR count(*) OVER (PARTITION BY ${columns.join(', ')}) = 1)`;
    }
    case 'accepted_values':
      return `(${quoteIdent(expectation.column)} IS NULL OR ${quoteIdent(expectation.column)} IN (${expectation.values.map(literal).join(', ')}))`;
    case 'between': {
      const column = quoteIdent(expectation.column);
      const bounds = [
        expectation.min !== undefined ? `${column} >= ${literal(expectation.min)}` : undefined,
        expectation.max !== undefined ? `${column} <= ${literal(expectation.max)}` : undefined,
      ].filter((bound): bound is string => bound !== undefined);
      return `(${column} IS NULL OR (${bounds.join(' AND ')}))`;
    }
    case 'regex':
      return `(${quoteIdent(expectation.column)} IS NULL OR ${dialect.regexFullMatch(quoteIdent(expectation.column), expectation.pattern)})`;
    case 'references':
      return `(${quoteIdent(expectation.column)} IS NULL OR ${quoteIdent(expectation.column)} IN (SELECT ${quoteIdent(expectation.refColumn)} FROM ${context.ref(expectation.table.layer, expectation.table.table)}))`;
    case 'sql':
      return `coalesce((${expectation.predicate(context)}), false)`;
  }
}

/**
 * Splits a relation by its `quarantine` row checks: rows failing one (the first, in declaration order) go to
 * `<name>_failed` with the check's name in `__expectation`; the others to `<name>_kept`. Returns the two
 * relation names and how many rows each check took.
 */
export async function splitByQuarantineChecks(
  engine: Engine,
  relation: string,
  name: string,
  expectations: readonly Expectation[],
  context: SqlContext,
): Promise<{ kept: string; failed: string; counts: Map<string, number> } | undefined> {
  const checks = expectations.filter(
    (expectation): expectation is RowExpectation =>
      isRowExpectation(expectation) && expectation.action === 'quarantine',
  );
  if (checks.length === 0) return undefined;
  const { dialect } = engine;
  const reason = `CASE ${checks.map((check) => `WHEN NOT ${passExpression(check, context, dialect)} THEN ${dialect.string(check.name)}`).join(' ')} END`;
  const checked = `${name}_checked`;
  // Window checks (unique) need the whole relation: evaluate once into a temp table.
  await engine.materialize(checked, `SELECT *, ${reason} AS __expectation FROM ${relation}`);
  const columns = await columnList(engine, relation);
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${name}_kept AS SELECT ${columns} FROM ${checked} WHERE __expectation IS NULL`,
  );
  await engine.run(
    `CREATE OR REPLACE TEMP VIEW ${name}_failed AS SELECT * FROM ${checked} WHERE __expectation IS NOT NULL`,
  );
  const rows = await engine.all<{ name: string; n: number }>(
    `SELECT __expectation AS name, count(*) AS n FROM ${name}_failed GROUP BY __expectation`,
  );
  return {
    kept: `${name}_kept`,
    failed: `${name}_failed`,
    counts: new Map(rows.map((row) => [row.name, Number(row.n)])),
  };
}

/**
 * Audits a staged version against its warn and fail checks, in one pass over the data for the row checks, and
 * reports the quarantine checks with the counts they took. The caller publishes the version only when no `fail`
 * check broke.
 */
export async function auditVersion(
  engine: Engine,
  audited: { version: string; changed?: string },
  expectations: readonly Expectation[],
  context: SqlContext,
  quarantined: ReadonlyMap<string, number>,
  now: Date,
): Promise<ExpectationResult[]> {
  const relation = audited.version;
  const results: ExpectationResult[] = [];
  const rowChecks = expectations.filter(
    (expectation): expectation is RowExpectation =>
      isRowExpectation(expectation) && expectation.action !== 'quarantine',
  );
  if (rowChecks.length > 0) {
    const flags = rowChecks.map(
      (check, index) => `${passExpression(check, context, engine.dialect)} AS __pass_${index}`,
    );
    const flagged = (from: string) => `(SELECT *, ${flags.join(', ')} FROM ${from}) AS audited`;
    // Counted in one pass that reads only the checks' columns. Samples of a failing check come from the rows this
    // write changed when some of them fail (a few of a merge's new rows, not a scan of the whole table), else
    // from the whole version.
    const counts = await engine.one(
      `SELECT ${rowChecks.map((_, index) => `count(*) FILTER (WHERE NOT __pass_${index}) AS f${index}`).join(', ')} FROM ${flagged(relation)}`,
    );
    const columns = (await engine.columns(relation)).map((column) => column.name);
    const failingIn = (from: string, index: number) =>
      samples(engine, columns, `SELECT * FROM ${flagged(from)} WHERE NOT __pass_${index}`);
    for (const [index, check] of rowChecks.entries()) {
      const failingRows = Number(counts[`f${index}`]);
      const changed = failingRows && audited.changed ? await failingIn(audited.changed, index) : [];
      results.push({
        name: check.name,
        type: check.type,
        action: check.action,
        passed: failingRows === 0,
        failingRows,
        samples: failingRows && changed.length === 0 ? await failingIn(relation, index) : changed,
      });
    }
  }
  for (const check of expectations) {
    if (isRowExpectation(check) && check.action === 'quarantine') {
      const taken = quarantined.get(check.name) ?? 0;
      results.push({
        name: check.name,
        type: check.type,
        action: check.action,
        passed: taken === 0,
        failingRows: taken,
        samples: [],
      });
    } else if (!isRowExpectation(check)) {
      results.push(await tableCheck(engine, relation, check, now));
    }
  }
  return results;
}

async function tableCheck(
  engine: Engine,
  relation: string,
  check: TableExpectation,
  now: Date,
): Promise<ExpectationResult> {
  const result = { name: check.name, type: check.type, action: check.action, failingRows: 0, samples: [] };
  if (check.type === 'row_count') {
    const rows = await engine.count(relation);
    const passed =
      (check.min === undefined || rows >= check.min) && (check.max === undefined || rows <= check.max);
    return { ...result, passed, observed: rows };
  }
  const row = await engine.one<{ newest: string | null }>(
    `SELECT ${engine.dialect.isoTimestamp(`max(${engine.dialect.quoteIdent(check.column)})`)} AS newest FROM ${relation}`,
  );
  if (row.newest === null) return { ...result, passed: false, observed: null };
  const ageMs = now.getTime() - new Date(row.newest).getTime();
  const maxAgeMs = parseDuration(check.maxAge, `expectations.${check.name}.maxAge`);
  return {
    ...result,
    passed: ageMs <= maxAgeMs,
    observed: `${(ageMs / 3_600_000).toFixed(1)} h (newest ${row.newest})`,
  };
}

/** A few rows of `sql`, as JSON objects of the named columns. */
async function samples(
  engine: Engine,
  columns: readonly string[],
  sql: string,
): Promise<Record<string, unknown>[]> {
  const rows = await engine.all<{ row: SqlValue }>(
    `SELECT ${engine.dialect.jsonObject(columns)} AS row FROM (${sql} LIMIT ${SAMPLES}) AS t`,
  );
  return rows.map((row) => JSON.parse(String(row.row)) as Record<string, unknown>);
}

/** The relation's columns, quoted and listed: what `SELECT * EXCLUDE (…)` would give, in every dialect. */
export async function columnList(engine: Engine, relation: string): Promise<string> {
  return (await engine.columns(relation)).map((column) => engine.dialect.quoteIdent(column.name)).join(', ');
}
