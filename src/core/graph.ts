import { ConfigError } from './errors.js';
import type { Expectation } from './expectations.js';
import type { Layer, PipelineDefinition, SqlContext, TableDefinition } from './pipeline.js';

/** A table's address in the lake. */
export interface TableId {
  layer: Layer | 'quarantine';
  table: string;
}

export type TaskKind = 'ingest' | 'bronze' | 'table' | 'quality_check' | 'custom';

export interface Task {
  /** `ingest`, `bronze.<table>`, `silver.<table>`, `gold.<table>`, `quality_check`, or a custom task's name. */
  id: string;
  kind: TaskKind;
  dependsOn: string[];
  /** The table the task writes, for bronze and table tasks. */
  output?: TableId;
}

export function tableKey(id: TableId): string {
  return `${id.layer}.${id.table}`;
}

/** Calls a SQL function with a context that records which tables it references. */
export function tablesReferencedBy(sql: (context: SqlContext) => string): TableId[] {
  const refs: TableId[] = [];
  sql({
    engine: 'duckdb',
    ref(layer, name) {
      refs.push({ layer, table: name });
      return `"${layer}__${name}"`;
    },
    logicalDate: "DATE '2000-01-01'",
    runId: "'run'",
    dataIntervalStart: "TIMESTAMPTZ '2000-01-01 00:00:00+00'",
    dataIntervalEnd: "TIMESTAMPTZ '2000-01-01 00:00:00+00'",
    param: () => 'NULL',
  });
  return refs;
}

/** The tables a table's SQL, refinement and expectations read. */
export function referencedTables(table: TableDefinition): TableId[] {
  return tablesRead(table, () => true);
}

/**
 * The tables whose rows make a refined table's content: its SQL's, its refine input, and those its quarantine
 * expectations read (warn and fail checks only judge a version).
 */
export function contentInputs(table: TableDefinition): TableId[] {
  return tablesRead(table, (expectation) => expectation.action === 'quarantine');
}

function tablesRead(table: TableDefinition, counted: (expectation: Expectation) => boolean): TableId[] {
  const refs = tablesReferencedBy(table.sql);
  if (table.refine) refs.push(table.refine.input);
  for (const expectation of (table.expectations ?? []).filter(counted)) {
    if (expectation.type === 'references') refs.push(expectation.table);
    if (expectation.type === 'sql') refs.push(...tablesReferencedBy(expectation.predicate));
  }
  return unique(refs);
}

function unique(refs: TableId[]): TableId[] {
  const seen = new Set<string>();
  return refs.filter((ref) => !seen.has(tableKey(ref)) && seen.add(tableKey(ref)));
}

/** The pipeline's tasks in an order where every task comes after its dependencies. */
export function buildTaskGraph(pipeline: PipelineDefinition): Task[] {
  const tasks: Task[] = pipeline.sources.length ? [{ id: 'ingest', kind: 'ingest', dependsOn: [] }] : [];
  const known = new Set<string>();
  for (const source of pipeline.sources) {
    const output: TableId = { layer: 'bronze', table: source.bronzeTable };
    known.add(tableKey(output));
    tasks.push({ id: tableKey(output), kind: 'bronze', dependsOn: ['ingest'], output });
  }
  for (const table of pipeline.tables) known.add(tableKey({ layer: table.layer, table: table.name }));
  for (const table of pipeline.tables) {
    const output: TableId = { layer: table.layer, table: table.name };
    const dependsOn = [...new Set(referencedTables(table).map(tableKey))];
    for (const dependency of dependsOn) {
      if (!known.has(dependency)) {
        throw new ConfigError(
          `table ${tableKey(output)} references ${dependency}, which the pipeline does not declare`,
          {
            context: { field: `tables.${table.name}.sql` },
            hint: `declared tables: ${[...known].join(', ')}`,
          },
        );
      }
    }
    tasks.push({ id: tableKey(output), kind: 'table', dependsOn, output });
  }
  const writers = tasks.filter((task) => task.output).map((task) => task.id);
  if (writers.length) tasks.push({ id: 'quality_check', kind: 'quality_check', dependsOn: writers });
  const ids = new Set([...tasks.map((task) => task.id), ...(pipeline.tasks ?? []).map((task) => task.name)]);
  for (const custom of pipeline.tasks ?? []) {
    for (const dependency of custom.dependsOn ?? []) {
      if (!ids.has(dependency)) {
        throw new ConfigError(
          `task ${custom.name} depends on ${dependency}, which is not a task of the pipeline`,
          {
            context: { field: `tasks.${custom.name}.dependsOn` },
            hint: `tasks: ${[...ids].join(', ')}`,
          },
        );
      }
    }
    tasks.push({ id: custom.name, kind: 'custom', dependsOn: [...(custom.dependsOn ?? [])] });
  }
  return topologicalOrder(tasks);
}

function topologicalOrder(tasks: Task[]): Task[] {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const ordered: Task[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (task: Task, path: string[]): void => {
    const current = state.get(task.id);
    if (current === 'done') return;
    if (current === 'visiting') {
      throw new ConfigError(`tasks depend on each other in a cycle: ${[...path, task.id].join(' → ')}`, {
        context: { field: task.id },
      });
    }
    state.set(task.id, 'visiting');
    for (const dependency of task.dependsOn) {
      const upstream = byId.get(dependency);
      if (upstream) visit(upstream, [...path, task.id]);
    }
    state.set(task.id, 'done');
    ordered.push(task);
  };
  for (const task of tasks) visit(task, []);
  return ordered;
}
