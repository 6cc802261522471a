/**
 * How a refined table's SQL sees the lake: each table it reads as a view named for its layer and name, and the
 * run's literals (logical date, parameters…) written for the engine that runs it.
 */
import { MedallionError } from '../core/errors.js';
import { tableKey, type TableId } from '../core/graph.js';
import type { SqlContext } from '../core/pipeline.js';
import type { Dialect } from '../engine/dialect.js';
import { snapshotRows, type TableSnapshot } from '../table/delta-table.js';
import type { RunContext, RunInfo } from './run-context.js';

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

/** Makes the current version of each table the SQL references queryable under its view name; their versions. */
export async function registerInputs(
  context: RunContext,
  ids: readonly TableId[],
): Promise<Map<string, TableSnapshot>> {
  const snapshots = new Map<string, TableSnapshot>();
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
    snapshots.set(tableKey(id), snapshot);
  }
  return snapshots;
}
