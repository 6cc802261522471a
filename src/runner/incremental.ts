/**
 * An incremental table's task: reads the marks its last commits left, plans (src/core/increments.ts), and either
 * rebuilds the table, its quarantine and its dedupe state from all the input, or refines only the input rows
 * committed since and merges the outcome into the three, copy-on-write.
 */
import { DEFAULT_COMPACTION } from '../core/compaction.js';
import { contentInputs, tableKey, type TableId } from '../core/graph.js';
import { markFields, marksOf, planRefresh, type IncrementMarks } from '../core/increments.js';
import type { Refinement, TableDefinition } from '../core/pipeline.js';
import { snapshotRows, type DeltaTable, type TableSnapshot } from '../table/delta-table.js';
import { refinementDigest } from './fingerprints.js';
import { describeAccounting, GROUP_COLUMN, refine, type RefineOutput } from './refine.js';
import type { RunContext } from './run-context.js';
import { mergeTable } from './table-merge.js';
import { auditorFor, type TableReport } from './table-task.js';
import { writeTable } from './table-writer.js';

export interface IncrementalTask {
  task: string;
  /** The table's SQL, rendered for the run's engine. */
  sql: string;
  /** The prefix of the task's temporary relations. */
  base: string;
  /** The version of each table the task registered, by `layer.table`. */
  inputs: Map<string, TableSnapshot>;
}

/** The view of the table's current version an increment without new rows audits. */
const CURRENT_VERSION = '__current_version';

/** The three tables an incremental table is, in the order they are committed: the table itself last. */
const PARTS = ['winners', 'quarantine', 'table'] as const;
type Part = (typeof PARTS)[number];
type Parts<T> = Record<Part, T>;

interface Job {
  context: RunContext;
  definition: TableDefinition;
  rules: Refinement;
  task: IncrementalTask;
  tables: Parts<DeltaTable>;
  marks: IncrementMarks;
}

export async function buildIncrementally(
  context: RunContext,
  definition: TableDefinition,
  rules: Refinement,
  task: IncrementalTask,
): Promise<TableReport> {
  const id: TableId = { layer: definition.layer, table: definition.name };
  const job: Job = {
    context,
    definition,
    rules,
    task,
    tables: {
      winners: context.lake.winners(id),
      quarantine: context.lake.quarantine(id),
      table: context.lake.table(id),
    },
    marks: {
      inputs: Object.fromEntries(
        contentInputs(definition).map((input) => [
          tableKey(input),
          task.inputs.get(tableKey(input))?.version ?? -1,
        ]),
      ),
      definition: refinementDigest(context, definition, context.engine.dialect),
    },
  };
  const snapshots = await Promise.all(PARTS.map((part) => job.tables[part].snapshot()));
  const recorded = await Promise.all(
    PARTS.map(async (part, index) => {
      const snapshot = snapshots[index];
      return snapshot && marksOf(await commitInfo(job.tables[part], snapshot.version));
    }),
  );
  const driving = tableKey(rules.input);
  const drivingLatest = task.inputs.get(driving);
  const since = recorded[0]?.inputs[driving];
  const consumed =
    since === undefined || since < 0
      ? undefined
      : await context.lake
          .table(rules.input)
          .snapshot(since)
          .catch(() => undefined);
  const latestFiles = new Set(drivingLatest?.files.map((file) => file.path));
  const plan = planRefresh({
    fullRefresh: context.fullRefresh,
    definition: job.marks.definition,
    driving,
    inputs: job.marks.inputs,
    marks: recorded,
    drivingRewritten: () => !consumed || consumed.files.some((file) => !latestFiles.has(file.path)),
  });
  if (plan.kind === 'full') {
    context.log(`full refresh: ${plan.reason}`);
    return { ...(await rebuild(job)), refresh: { kind: 'full', reason: plan.reason } };
  }
  const consumedFiles = new Set(consumed?.files.map((file) => file.path));
  const added = (drivingLatest?.files ?? []).filter((file) => !consumedFiles.has(file.path));
  context.log(
    `increment: ${driving} after version ${plan.since} up to ${plan.latest}, ${added.length} new data file(s)`,
  );
  const [winners, quarantine, table] = snapshots as [TableSnapshot, TableSnapshot, TableSnapshot];
  return {
    ...(await increment(job, { winners, quarantine, table }, { ...drivingLatest!, files: added })),
    refresh: { kind: 'increment' },
  };
}

/** The commitInfo of a version (where an incremental table's marks are). */
async function commitInfo(table: DeltaTable, version: number): Promise<Record<string, unknown> | undefined> {
  const [commit] = await table.commits(version, version);
  for (const action of commit?.actions ?? []) if ('commitInfo' in action) return action.commitInfo;
  return undefined;
}

/** All the input, refined anew: the three tables overwritten, each with the marks. */
async function rebuild(job: Job): Promise<TableReport> {
  const { context, definition, rules, task, tables } = job;
  const output = await refine(context, definition, rules, task.sql, task.base);
  context.log(`accounting: ${describeAccounting(output.accounting)}`);
  const info = markFields(job.marks);
  const auditor = auditorFor(context, definition, output.expectationCounts);
  // Files as small as merges write them: a later merge replacing one row rewrites no more.
  const maxRowsPerFile = DEFAULT_COMPACTION.maxRows;
  const written = await writeTable(context.engine, output.relation, tables.table, {
    log: (message) => context.log(message),
    mode: 'overwrite',
    maxRowsPerFile,
    partitionBy: definition.partitionBy ?? [],
    runId: context.runId,
    task: task.task,
    ...(auditor.audit && { audit: auditor.audit }),
    failOnSchemaDrift: definition.schemaDrift === 'fail',
    info,
  });
  for (const [part, relation] of [
    ['quarantine', output.quarantine],
    ['winners', output.winners],
  ] as const) {
    await writeTable(context.engine, relation, tables[part], {
      log: (message) => context.log(`${part}: ${message}`),
      mode: 'overwrite',
      maxRowsPerFile,
      runId: context.runId,
      task: task.task,
      info,
    });
  }
  return {
    version: written.version,
    rows: written.rows,
    accounting: output.accounting,
    expectations: auditor.results(),
  };
}

/** The new input rows refined against the current winners, merged into the three tables. */
async function increment(
  job: Job,
  snapshots: Parts<TableSnapshot>,
  added: TableSnapshot,
): Promise<TableReport> {
  const { context, definition, rules, task, tables } = job;
  const { engine } = context;
  const { dialect } = engine;
  const input = context.lake.table(rules.input);
  // The SQL reads the input under its usual view name: now only the files committed since the last increment.
  await engine.registerSnapshot(`${rules.input.layer}__${rules.input.table}`, added, input.store, input.root);
  const previous = `${task.base}_previous_winners`;
  await engine.registerSnapshot(previous, snapshots.winners, tables.winners.store, tables.winners.root);
  const output = await refine(context, definition, rules, task.sql, task.base, dialect.quoteIdent(previous));
  context.log(`accounting: ${describeAccounting(output.accounting)}`);
  const auditor = auditorFor(context, definition, output.expectationCounts);
  if (output.accounting.rowsIn === 0) {
    context.log('no new input rows: nothing to merge; the expectations judge the current version');
    if (auditor.audit) {
      await engine.registerSnapshot(CURRENT_VERSION, snapshots.table, tables.table.store, tables.table.root);
      await auditor.audit(dialect.quoteIdent(CURRENT_VERSION));
    }
    return {
      version: snapshots.table.version,
      rows: snapshotRows(snapshots.table),
      accounting: output.accounting,
      expectations: auditor.results(),
    };
  }
  const info = markFields(job.marks);
  const common = { runId: context.runId, task: task.task, info };
  // Computed once: the merge reads the new rows for their keys, to stage them and to audit them.
  const fresh = `${task.base}_fresh`;
  await engine.materialize(fresh, `SELECT * FROM ${output.relation}`);
  const written = await mergeTable(engine, tables.table, snapshots.table, {
    ...common,
    key: definition.key ?? [],
    removeKeys: replacedKeys(context, definition, { ...output, relation: fresh }),
    insert: fresh,
    partitionBy: definition.partitionBy ?? [],
    ...(auditor.audit && { audit: auditor.audit }),
    log: (message) => context.log(message),
  });
  await mergeTable(engine, tables.quarantine, snapshots.quarantine, {
    ...common,
    key: ['record_id'],
    removeKeys: `(SELECT CAST(${dialect.quoteIdent(rules.recordId)} AS STRING) AS record_id FROM ${output.displaced})`,
    insert: output.quarantine,
    partitionBy: [],
    log: (message) => context.log(`quarantine: ${message}`),
  });
  const group = dialect.quoteIdent(GROUP_COLUMN);
  await mergeTable(engine, tables.winners, snapshots.winners, {
    ...common,
    key: [GROUP_COLUMN],
    removeKeys: `(SELECT ${group} FROM ${output.displaced})`,
    insert: output.winners,
    partitionBy: [],
    log: (message) => context.log(`winners: ${message}`),
  });
  return {
    version: written.version,
    rows: written.rows,
    accounting: output.accounting,
    expectations: auditor.results(),
  };
}

/** The keys whose rows leave the table: those of the records outranked, and those the new rows take. */
function replacedKeys(context: RunContext, definition: TableDefinition, output: RefineOutput): string {
  const key = (definition.key ?? []).map((column) => context.engine.dialect.quoteIdent(column)).join(', ');
  return `(SELECT ${key} FROM ${output.displacedRows} UNION SELECT ${key} FROM ${output.relation} AS fresh)`;
}
