import { tableKey, type TableId } from '../core/graph.js';
import { quoteIdent } from '../engine/delta-types.js';
import type { DeltaStructType } from '../table/delta-protocol.js';
import type { RunContext } from './run-context.js';
import { registerInputs, viewName } from './table-task.js';

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
  schemaDrift: { added: string[]; removed: string[]; retyped: string[] };
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

function schemaDrift(
  previous: DeltaStructType | undefined,
  current: DeltaStructType,
): TableProfile['schemaDrift'] {
  const before = new Map(
    (previous?.fields ?? current.fields).map((field) => [field.name, JSON.stringify(field.type)]),
  );
  const after = new Map(current.fields.map((field) => [field.name, JSON.stringify(field.type)]));
  return {
    added: [...after.keys()].filter((name) => !before.has(name)),
    removed: [...before.keys()].filter((name) => !after.has(name)),
    retyped: [...after.keys()].filter((name) => before.has(name) && before.get(name) !== after.get(name)),
  };
}

/** Profiles every table of the pipeline: volumes, nulls, duplicate keys, date ranges, freshness, drift. */
export async function checkQuality(context: RunContext): Promise<TableProfile[]> {
  const profiles: TableProfile[] = [];
  for (const { id, key } of allTables(context)) {
    const table = context.lake.table(id);
    const snapshot = await table.snapshot();
    if (!snapshot) continue;
    await registerInputs(context, [id]);
    const view = viewName(id);
    const fields = snapshot.schema.fields;
    const nulls = fields.map((field, index) => `count(${quoteIdent(field.name)})::BIGINT AS c${index}`);
    const dates = fields.filter((field) => field.type === 'date' || field.type === 'timestamp');
    const ranges = dates.flatMap((field, index) => [
      `min(${quoteIdent(field.name)})::VARCHAR AS min${index}`,
      `max(${quoteIdent(field.name)})::VARCHAR AS max${index}`,
    ]);
    const stats = await context.engine.one(
      `SELECT ${['count(*)::BIGINT AS n', ...nulls, ...ranges].join(', ')} FROM ${view}`,
    );
    const rows = Number(stats.n);
    const duplicateKeys = key.length
      ? Number(
          (
            await context.engine.one(
              `SELECT coalesce(sum(n), 0)::BIGINT AS d FROM (SELECT count(*) AS n FROM ${view} GROUP BY ${key.map(quoteIdent).join(', ')} HAVING count(*) > 1)`,
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
        fields.map((field, index) => [
          field.name,
          rows === 0 ? 0 : round(1 - Number(stats[`c${index}`]) / rows),
        ]),
      ),
      duplicateKeys,
      dateRanges: Object.fromEntries(
        dates.map((field, index) => [
          field.name,
          {
            min: (stats[`min${index}`] as string | null) ?? null,
            max: (stats[`max${index}`] as string | null) ?? null,
          },
        ]),
      ),
      ageSeconds: Math.round((Date.now() - snapshot.timestamp) / 1000),
      schemaDrift: schemaDrift(previous?.schema, snapshot.schema),
      warnings: [],
    };
    if (rows === 0) profile.warnings.push('table is empty');
    if (duplicateKeys > 0) profile.warnings.push(`${duplicateKeys} rows share a key (${key.join(', ')})`);
    const drift = profile.schemaDrift;
    if (drift.added.length || drift.removed.length || drift.retyped.length) {
      profile.warnings.push(
        `schema changed: +[${drift.added.join(', ')}] -[${drift.removed.join(', ')}] ~[${drift.retyped.join(', ')}]`,
      );
    }
    profiles.push(profile);
  }
  return profiles;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
