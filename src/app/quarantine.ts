/**
 * The quarantine of a pipeline's lake, as people look at it: each quarantine table (`quarantine/<layer>_<table>`,
 * see LakeLayout.quarantine) with its rows counted by reason and a few sample rows, the newest first. Read with
 * DuckDB over the tables' current versions; only SELECT statements run.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import { openLake, storeSettings } from '../project/locations.js';
import type { DuckDbEngine } from '../engine/duckdb/engine.js';
import { withScratchEngine } from '../engine/duckdb/scratch-engine.js';
import { quoteIdent, sqlString } from '../engine/dialects/duckdb.js';
import type { DeltaTable } from '../table/delta-table.js';
import { LakeLayout } from '../table/lake-layout.js';
import { storeConnections } from './connections.js';
import type { AppContext } from './context.js';
import { findPipeline } from './runs.js';

/** Sample rows per table, at most. */
export const QUARANTINE_SAMPLES = 20;
/** A sample's `record` (the rejected record as text) is cut after this many characters. */
const RECORD_CHARS = 2_000;

export interface QuarantineRow {
  run_id: string | null;
  reason: string | null;
  record_id: string | null;
  record: string | null;
  detail: string | null;
  quarantined_at: string | null;
}

export interface QuarantineTable {
  /** `<layer>_<table>`: the table whose rejects it holds. */
  table: string;
  version: number;
  rows: number;
  /** Rows per reason, most first. */
  reasons: { reason: string; rows: number }[];
  /** The newest rows (of `reason`, when one is asked for). */
  samples: QuarantineRow[];
}

export interface QuarantineSummary {
  pipeline: string;
  lake: string | null;
  tables: QuarantineTable[];
}

/** Each quarantine table of the pipeline's lake: rows by reason and samples (only of `reason`, when given). */
export async function quarantineSummary(
  ctx: AppContext,
  input: { pipeline: string; reason?: string },
): Promise<QuarantineSummary> {
  const pipeline = await findPipeline(ctx, input.pipeline);
  const location = ctx.project.locations(pipeline, ctx.locations)?.lake ?? null;
  const lake = location === null ? undefined : await openExistingLake(ctx, location);
  if (!lake) return { pipeline: pipeline.name, lake: location, tables: [] };
  const tables = await lake.tablesIn('quarantine');
  // A summary must not take the server's memory: a small engine of its own, gone when it is done.
  return withScratchEngine(ctx.project.engine().scratchDir ?? os.tmpdir(), 'quarantine', async (engine) => {
    const summaries: QuarantineTable[] = [];
    for (const table of tables) {
      const summary = await summarize(engine, table, input.reason);
      if (summary) summaries.push(summary);
    }
    return { pipeline: pipeline.name, lake: location, tables: summaries };
  });
}

/** The lake, unless it is a directory that does not exist yet (nothing ran): reading creates nothing there. */
async function openExistingLake(ctx: AppContext, location: string): Promise<LakeLayout | undefined> {
  if (!/^s3:\/\//i.test(location) && !(await stat(location).catch(() => undefined))?.isDirectory()) {
    return undefined;
  }
  return new LakeLayout(await openLake(location, storeSettings(process.env, storeConnections(ctx.store))));
}

async function summarize(
  engine: DuckDbEngine,
  table: DeltaTable,
  reason: string | undefined,
): Promise<QuarantineTable | undefined> {
  const snapshot = await table.snapshot();
  if (!snapshot) return undefined;
  const view = quoteIdent(`quarantine_${table.root}`);
  await engine.registerSnapshot(`quarantine_${table.root}`, snapshot, table.store, table.root);
  const reasons = await engine.all<{ reason: string | null; n: number | string }>(
    `SELECT reason, count(*)::BIGINT AS n FROM ${view} GROUP BY reason ORDER BY n DESC, reason`,
  );
  const samples = await engine.all<QuarantineRow & Record<string, string | null>>(
    `SELECT CAST(run_id AS VARCHAR) AS run_id, CAST(reason AS VARCHAR) AS reason,
            CAST(record_id AS VARCHAR) AS record_id, left(CAST(record AS VARCHAR), ${RECORD_CHARS}) AS record,
            CAST(detail AS VARCHAR) AS detail, CAST(quarantined_at AS VARCHAR) AS quarantined_at
       FROM ${view}
      ${reason === undefined ? '' : `WHERE reason = ${sqlString(reason)}`}
      ORDER BY quarantined_at DESC, record_id
      LIMIT ${QUARANTINE_SAMPLES}`,
  );
  const counted = reasons.map((row) => ({ reason: row.reason ?? '(none)', rows: Number(row.n) }));
  return {
    table: table.root,
    version: snapshot.version,
    rows: counted.reduce((sum, row) => sum + row.rows, 0),
    reasons: counted,
    samples,
  };
}
