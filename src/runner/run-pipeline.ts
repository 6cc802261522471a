import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeError } from '../core/errors.js';
import { buildTaskGraph, tablesReferencedBy, type Task } from '../core/graph.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import { DuckDbEngine } from '../engine/duckdb-engine.js';
import type { ObjectStore } from '../storage/object-store.js';
import { parseStats } from '../table/delta-protocol.js';
import { LakeLayout, type LakeStores } from '../table/lake-layout.js';
import { loadBronze } from './bronze.js';
import { ingest } from './ingest.js';
import type { ProgressListener } from './progress.js';
import { checkQuality } from './quality-check.js';
import type { RunContext } from './run-context.js';
import type { RunSummary, TableSummary, TaskSummary } from './run-summary.js';
import { buildTable, registerInputs, sqlContext } from './table-task.js';

export interface RunOptions {
  pipeline: PipelineDefinition;
  source: ObjectStore;
  lake: LakeStores;
  /** YYYY-MM-DD; default: today (UTC). */
  logicalDate?: string;
  retryRejected?: boolean;
  /** DuckDB memory limit, e.g. '1GB'. */
  memoryLimit?: string;
  threads?: number;
  /** Where DuckDB spills and stages files; default: a fresh directory under the OS temp dir. */
  scratchDir?: string;
  progress?: ProgressListener;
}

export function newRunId(now: Date): string {
  return `run_${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')}_${randomBytes(3).toString('hex')}`;
}

/** Runs every task of the pipeline once, in dependency order, and returns (and stores) the summary. */
export async function runPipeline(options: RunOptions): Promise<RunSummary> {
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const scratchDir = options.scratchDir ?? path.join(os.tmpdir(), `medallion-${runId}`);
  const engine = await DuckDbEngine.create({
    scratchDir,
    ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  });
  const progress = options.progress ?? (() => {});
  const context: RunContext = {
    pipeline: options.pipeline,
    runId,
    logicalDate: options.logicalDate ?? startedAt.toISOString().slice(0, 10),
    startedAt,
    source: options.source,
    lake: new LakeLayout(options.lake),
    engine,
    retryRejected: options.retryRejected ?? false,
    progress,
  };
  const summary: RunSummary = {
    pipeline: options.pipeline.name,
    runId,
    logicalDate: context.logicalDate,
    status: 'success',
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    durationMs: 0,
    lake: options.lake.location,
    source: options.source.location,
    ingest: { landed: [], skipped: [], unmatched: [] },
    tasks: [],
    tables: [],
    headline: null,
    quality: [],
  };
  try {
    for (const macro of options.pipeline.macros ?? []) await engine.run(macro);
    const tasks = buildTaskGraph(options.pipeline);
    progress({
      type: 'run-started',
      runId,
      pipeline: options.pipeline.name,
      tasks: tasks.map((task) => task.id),
    });
    const failed = new Set<string>();
    for (const task of tasks) {
      if (task.dependsOn.some((dependency) => failed.has(dependency))) {
        failed.add(task.id);
        summary.tasks.push({ id: task.id, status: 'upstream_failed', durationMs: 0 });
        continue;
      }
      const result = await runTask(context, task, summary);
      summary.tasks.push(result);
      if (result.status === 'failed') {
        failed.add(task.id);
        summary.status = 'failed';
        summary.error ??= `${task.id}: ${result.error}`;
      }
    }
    if (summary.status === 'success') summary.headline = await headline(context);
  } catch (error) {
    summary.status = 'failed';
    summary.error = describeError(error);
  } finally {
    engine.close();
    await rm(scratchDir, { recursive: true, force: true });
  }
  const finishedAt = new Date();
  summary.finishedAt = finishedAt.toISOString();
  summary.durationMs = finishedAt.getTime() - startedAt.getTime();
  try {
    await context.lake.system().put(context.lake.runSummaryKey(runId), JSON.stringify(summary, null, 2));
  } catch (error) {
    // The run's outcome is still returned (and printed); only its stored copy is missing.
    summary.status = 'failed';
    summary.error ??= `the run summary could not be stored: ${describeError(error)}`;
  }
  progress({ type: 'run-finished', runId, status: summary.status, durationMs: summary.durationMs });
  return summary;
}

async function runTask(context: RunContext, task: Task, summary: RunSummary): Promise<TaskSummary> {
  const started = performance.now();
  context.progress({ type: 'task-started', task: task.id });
  try {
    const detail = await executeTask(context, task, summary);
    const durationMs = Math.round(performance.now() - started);
    context.progress({ type: 'task-finished', task: task.id, status: 'success', durationMs, detail });
    return { id: task.id, status: 'success', durationMs };
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    const message = describeError(error);
    context.progress({ type: 'task-finished', task: task.id, status: 'failed', durationMs, detail: message });
    return { id: task.id, status: 'failed', durationMs, error: message };
  } finally {
    await context.engine.dropTemporaries();
  }
}

/** Runs one task and records what it did in the summary; returns a one-line description. */
async function executeTask(context: RunContext, task: Task, summary: RunSummary): Promise<string> {
  switch (task.kind) {
    case 'ingest': {
      const report = await ingest(context);
      summary.ingest = {
        landed: report.landed.map((entry) => ({
          source: entry.source,
          file: entry.sourceKey,
          bytes: entry.bytes,
          sha256: entry.checksum,
          landingKey: entry.landingKey,
        })),
        skipped: report.skipped.map((entry) => ({
          source: entry.source,
          file: entry.fileName,
          status: entry.status,
        })),
        unmatched: report.unmatched,
      };
      const unmatched = report.unmatched.length ? `, ${report.unmatched.length} matching no source` : '';
      return `${report.landed.length} file(s) landed, ${report.skipped.length} already ingested${unmatched}`;
    }
    case 'bronze': {
      const source = context.pipeline.sources.find(
        (candidate) => candidate.bronzeTable === task.output?.table,
      );
      if (!source || !task.output) throw new Error(`no source writes ${task.id}`);
      const report = await loadBronze(context, source, task.id);
      const table = await tableSummary(context, task, report.rowsOut);
      if (report.files.length > 0) {
        table.accounting = {
          rowsIn: report.rowsIn,
          recordsOut: report.rowsOut,
          deduplicated: 0,
          quarantined: report.quarantined,
          quarantineReasons: report.quarantined ? { malformed_csv_row: report.quarantined } : {},
        };
      }
      summary.tables.push(table);
      if (report.files.length === 0) return 'no new file';
      return `${report.rowsOut} rows appended from ${report.files.length} file(s)${report.quarantined ? `, ${report.quarantined} quarantined` : ''}`;
    }
    case 'table': {
      const definition = context.pipeline.tables.find(
        (candidate) => candidate.layer === task.output?.layer && candidate.name === task.output?.table,
      );
      if (!definition) throw new Error(`no table definition for ${task.id}`);
      const report = await buildTable(context, definition, task.id);
      const table = await tableSummary(context, task, report.rows);
      if (report.accounting) table.accounting = report.accounting;
      summary.tables.push(table);
      const accounting = report.accounting;
      return accounting
        ? `${report.rows} rows (${accounting.rowsIn} in, ${accounting.deduplicated} deduplicated, ${accounting.quarantined} quarantined)`
        : `${report.rows} rows`;
    }
    case 'quality_check': {
      summary.quality = await checkQuality(context);
      const warnings = summary.quality.reduce((sum, profile) => sum + profile.warnings.length, 0);
      return `${summary.quality.length} tables profiled, ${warnings} warning(s)`;
    }
  }
}

async function tableSummary(context: RunContext, task: Task, rowsWritten: number): Promise<TableSummary> {
  if (!task.output) throw new Error(`${task.id} writes no table`);
  const snapshot = await context.lake.table(task.output).snapshot();
  return {
    table: task.output.table,
    layer: task.output.layer,
    version: snapshot?.version ?? null,
    rows: snapshot?.files.reduce((sum, file) => sum + (parseStats(file)?.numRecords ?? 0), 0) ?? 0,
    rowsWritten,
  };
}

async function headline(context: RunContext): Promise<RunSummary['headline']> {
  const sql = context.pipeline.headline;
  if (!sql) return null;
  await registerInputs(context, tablesReferencedBy(sql));
  const row = await context.engine.one(sql(sqlContext(context)));
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)
        ? Number(value)
        : (value as number | string | null),
    ]),
  );
}
