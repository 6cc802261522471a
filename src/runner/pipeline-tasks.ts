import { tableDefinitionOf } from '../core/task-plan.js';
import { referencedTables, tablesReferencedBy, type Task } from '../core/graph.js';
import { snapshotRows, type TableSnapshot } from '../table/delta-table.js';
import type { LakeLayout } from '../table/lake-layout.js';
import { loadBronze } from './bronze.js';
import { ingest } from './ingest.js';
import { checkQuality, type TableProfile } from './quality-check.js';
import type { RunContext } from './run-context.js';
import type { RunSummary, TableSummary } from './run-summary.js';
import { buildTable } from './table-task.js';
import { engineSqlContext, registerInputs } from './sql-context.js';
import type { SparkTryRecord } from './task-engine.js';

/** What a data task reports, merged into the run summary when the run ends. */
export interface TaskData {
  ingest?: RunSummary['ingest'];
  table?: TableSummary;
  quality?: TableProfile[];
  headline?: RunSummary['headline'];
  /** A task run on Spark: the application and the stages it ran. */
  spark?: SparkTryRecord;
}

export interface DataTaskReport {
  detail: string;
  rowsIn?: number;
  rowsOut?: number;
  rowsQuarantined?: number;
  bytesRead?: number;
  bytesWritten?: number;
  data: TaskData;
}

/** Runs one of the pipeline's built-in tasks (ingest, bronze, silver/gold table, quality_check). */
export async function executeTask(context: RunContext, task: Task): Promise<DataTaskReport> {
  switch (task.kind) {
    case 'ingest':
      return ingestTask(context);
    case 'bronze':
      return bronzeTask(context, task);
    case 'table':
      return tableTask(context, task);
    case 'quality_check': {
      const quality = await checkQuality(context);
      const warnings = quality.reduce((sum, profile) => sum + profile.warnings.length, 0);
      return {
        detail: `${quality.length} tables profiled, ${warnings} warning(s)`,
        data: { quality, headline: await headline(context) },
      };
    }
    case 'custom':
      throw new Error(`${task.id} is a custom task, run by its own code`);
  }
}

async function ingestTask(context: RunContext): Promise<DataTaskReport> {
  const report = await ingest(context);
  const landedBytes = report.landed.reduce((sum, entry) => sum + entry.bytes, 0);
  const unmatched = report.unmatched.length ? `, ${report.unmatched.length} matching no source` : '';
  const refused = report.refused.length ? `, ${report.refused.length} skipped unread (see the log)` : '';
  return {
    detail: `${report.landed.length} file(s) landed, ${report.skipped.length} already ingested${unmatched}${refused}`,
    rowsOut: report.landed.length,
    bytesRead: landedBytes,
    bytesWritten: landedBytes,
    data: {
      ingest: {
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
        refused: report.refused.map((entry) => ({ file: entry.fileName, reason: entry.reason })),
      },
    },
  };
}

async function bronzeTask(context: RunContext, task: Task): Promise<DataTaskReport> {
  const source = context.pipeline.sources.find((candidate) => candidate.bronzeTable === task.output?.table);
  if (!source || !task.output) throw new Error(`no source writes ${task.id}`);
  const before = await context.lake.table(task.output).snapshot();
  const report = await loadBronze(context, source, task.id);
  const table = await tableSummary(context.lake, task, report.rowsOut);
  if (report.files.length > 0) {
    table.accounting = {
      rowsIn: report.rowsIn,
      recordsOut: report.rowsOut,
      deduplicated: 0,
      quarantined: report.quarantined,
      quarantineReasons: report.quarantined ? { malformed_csv_row: report.quarantined } : {},
    };
  }
  const detail =
    report.files.length === 0
      ? 'no new file'
      : `${report.rowsOut} rows appended from ${report.files.length} file(s)${report.quarantined ? `, ${report.quarantined} quarantined` : ''}`;
  return {
    detail,
    rowsIn: report.rowsIn,
    rowsOut: report.rowsOut,
    rowsQuarantined: report.quarantined,
    bytesWritten: table.bytes - (before ? snapshotBytes(before) : 0),
    data: { table },
  };
}

async function tableTask(context: RunContext, task: Task): Promise<DataTaskReport> {
  const definition = tableDefinitionOf(context.pipeline, task);
  if (!definition) throw new Error(`no table definition for ${task.id}`);
  const inputs = await Promise.all(
    referencedTables(definition).map((id) => context.lake.table(id).snapshot()),
  );
  const report = await buildTable(context, definition, task.id);
  const table = await tableSummary(context.lake, task, report.rows);
  const accounting = report.accounting;
  if (accounting) table.accounting = accounting;
  if (report.expectations.length > 0) table.expectations = report.expectations;
  if (report.refresh) table.refresh = report.refresh;
  const how = report.refresh ? `${report.refresh.kind === 'full' ? 'rebuilt' : 'merged'}: ` : '';
  return {
    detail: accounting
      ? `${report.rows} rows (${how}${accounting.rowsIn} in, ${accounting.deduplicated} deduplicated, ${accounting.quarantined} quarantined${accounting.replaced ? `, ${accounting.replaced} replaced` : ''})`
      : `${report.rows} rows`,
    ...(accounting && { rowsIn: accounting.rowsIn, rowsQuarantined: accounting.quarantined }),
    rowsOut: report.rows,
    bytesRead: inputs.reduce((sum, snapshot) => sum + (snapshot ? snapshotBytes(snapshot) : 0), 0),
    bytesWritten: table.bytes,
    data: { table },
  };
}

/** A table's current version and size; for a task skipped as unchanged, `rowsWritten` is 0. */
export async function tableSummary(lake: LakeLayout, task: Task, rowsWritten: number): Promise<TableSummary> {
  if (!task.output) throw new Error(`${task.id} writes no table`);
  const snapshot = await lake.table(task.output).snapshot();
  return {
    table: task.output.table,
    layer: task.output.layer,
    version: snapshot?.version ?? null,
    rows: snapshot ? snapshotRows(snapshot) : 0,
    rowsWritten,
    bytes: snapshot ? snapshotBytes(snapshot) : 0,
  };
}

function snapshotBytes(snapshot: TableSnapshot): number {
  return snapshot.files.reduce((sum, file) => sum + file.size, 0);
}

async function headline(context: RunContext): Promise<RunSummary['headline']> {
  const sql = context.pipeline.headline;
  if (!sql) return null;
  await registerInputs(context, tablesReferencedBy(sql));
  const row = await context.engine.one(sql(engineSqlContext(context)));
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)
        ? Number(value)
        : (value as number | string | null),
    ]),
  );
}
