import { tableKey, type TableId } from '../core/graph.js';
import { parseStats } from '../table/delta-protocol.js';
import type { TableSnapshot } from '../table/delta-table.js';
import { describeDrift, hasDrift, schemaDrift, type SchemaDrift } from '../table/schema-drift.js';
import type { RunContext } from './run-context.js';
import { registerInputs, viewName } from './sql-context.js';

/** What quality_check measured on one table's current version. */
export interface TableProfile {
  table: string;
  version: number;
  rows: number;
  /** Share of NULLs per column, 0–1. */
  nullShare: Record<string, number>;
  /** Rows whose declared key is shared with another row (0 when the table declares no key). */
  duplicateKeys: number;
  /** min and max of each date or timestamp column. */
  dateRanges: Record<string, { min: string | null; max: string | null }>;
  /** Seconds since the version was committed. */
  ageSeconds: number;
  schemaDrift: SchemaDrift;
  warnings: string[];
}

function allTables(context: RunContext): { id: TableId; key: string[] }[] {
  return [
    ...context.pipeline.sources.map((source) => ({
      id: { layer: 'bronze', table: source.bronzeTable } as TableId,
      key: [],
    })),
    ...context.pipeline.tables.map((table) => ({
      id: { layer: table.layer, table: table.name } as TableId,
      key: table.key ?? [],
    })),
  ];
}

/** Profiles every table of the pipeline: volumes, nulls, duplicate keys, date ranges, freshness, drift. */
export async function checkQuality(context: RunContext): Promise<TableProfile[]> {
  const profiles: TableProfile[] = [];
  for (const { id, key } of allTables(context)) {
    const table = context.lake.table(id);
    const snapshot = await table.snapshot();
    if (!snapshot) continue;
    const { dialect } = context.engine;
    const view = viewName(id, dialect);
    const fields = snapshot.schema.fields;
    const fromStats = fields.map((field) => statsProfile(snapshot, field.name, field.type === 'date'));
    // Only what the files' Delta stats cannot answer is computed by scanning the table.
    const scanned = fields.flatMap((field, index) => {
      const known = fromStats[index];
      const column = dialect.quoteIdent(field.name);
      const isDate = field.type === 'date' || field.type === 'timestamp';
      return [
        ...(known?.nulls === undefined ? [`count(*) - count(${column}) AS nulls${index}`] : []),
        ...(isDate && !known?.range
          ? [`CAST(min(${column}) AS STRING) AS min${index}`, `CAST(max(${column}) AS STRING) AS max${index}`]
          : []),
      ];
    });
    const rowsFromStats = snapshot.files.every((file) => parseStats(file) !== undefined)
      ? snapshot.files.reduce((sum, file) => sum + (parseStats(file)?.numRecords ?? 0), 0)
      : undefined;
    if (scanned.length > 0 || rowsFromStats === undefined || key.length > 0)
      await registerInputs(context, [id]);
    const scan =
      scanned.length > 0 || rowsFromStats === undefined
        ? await context.engine.one(`SELECT ${['count(*) AS n', ...scanned].join(', ')} FROM ${view}`)
        : {};
    const rows = rowsFromStats ?? Number(scan.n);
    const nulls = (index: number) => fromStats[index]?.nulls ?? Number(scan[`nulls${index}`]);
    const dates = fields.flatMap((field, index) =>
      field.type === 'date' || field.type === 'timestamp'
        ? [
            [
              field.name,
              fromStats[index]?.range ?? {
                min: (scan[`min${index}`] as string | null) ?? null,
                max: (scan[`max${index}`] as string | null) ?? null,
              },
            ] as const,
          ]
        : [],
    );
    const duplicateKeys = key.length
      ? Number(
          (
            await context.engine.one(
              `SELECT CAST(coalesce(sum(n), 0) AS BIGINT) AS d FROM (SELECT count(*) AS n FROM ${view} ` +
                `GROUP BY ${key.map((name) => dialect.quoteIdent(name)).join(', ')} HAVING count(*) > 1) AS groups`,
            )
          ).d,
        )
      : 0;
    const previous = snapshot.version > 0 ? await table.snapshot(snapshot.version - 1) : undefined;
    const profile: TableProfile = {
      table: tableKey(id),
      version: snapshot.version,
      rows,
      nullShare: Object.fromEntries(
        fields.map((field, index) => [field.name, rows === 0 ? 0 : round(nulls(index) / rows)]),
      ),
      duplicateKeys,
      dateRanges: Object.fromEntries(dates),
      ageSeconds: Math.round((Date.now() - snapshot.timestamp) / 1000),
      schemaDrift: schemaDrift(previous?.schema, snapshot.schema),
      warnings: [],
    };
    if (rows === 0) profile.warnings.push('table is empty');
    if (duplicateKeys > 0) profile.warnings.push(`${duplicateKeys} rows share a key (${key.join(', ')})`);
    const drift = profile.schemaDrift;
    if (hasDrift(drift)) profile.warnings.push(`schema changed: ${describeDrift(drift)}`);
    profiles.push(profile);
  }
  return profiles;
}

/**
 * A column's NULL count (and, for dates, its range) summed from the files' Delta stats, or
 * undefined parts where some file lacks them. Partition columns are answered by partition values.
 */
function statsProfile(
  snapshot: TableSnapshot,
  column: string,
  withRange: boolean,
): { nulls?: number; range?: { min: string | null; max: string | null } } {
  let nulls: number | undefined = 0;
  const range: { min: string | null; max: string | null } = { min: null, max: null };
  let rangeKnown = withRange;
  for (const file of snapshot.files) {
    const stats = parseStats(file);
    if (!stats) return {};
    if (column in file.partitionValues) {
      if (nulls !== undefined && file.partitionValues[column] === null) nulls += stats.numRecords;
      rangeKnown = false;
      continue;
    }
    const fileNulls = stats.nullCount?.[column];
    nulls = nulls === undefined || fileNulls === undefined ? undefined : nulls + fileNulls;
    if (!rangeKnown || fileNulls === stats.numRecords) continue;
    const [low, high] = [stats.minValues?.[column], stats.maxValues?.[column]];
    if (typeof low !== 'string' || typeof high !== 'string') {
      rangeKnown = false;
      continue;
    }
    if (range.min === null || low < range.min) range.min = low;
    if (range.max === null || high > range.max) range.max = high;
  }
  return { ...(nulls === undefined ? {} : { nulls }), ...(rangeKnown ? { range } : {}) };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
