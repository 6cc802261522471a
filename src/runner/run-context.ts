import { newRunId } from '../orchestrator/run-control.js';
import type { ParamValue, PipelineDefinition } from '../core/pipeline.js';
import type { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { Engine } from '../engine/engine.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { LakeLayout } from '../table/lake-layout.js';
import type { ProgressListener } from '../core/progress.js';

/** What every task of a run can use. */
export interface RunContext {
  pipeline: PipelineDefinition;
  runId: string;
  /** YYYY-MM-DD: the date the run stands for (ages are computed at it). */
  logicalDate: string;
  /** ISO instants bounding the data the run is for. */
  dataInterval: { start: string; end: string };
  params: Readonly<Record<string, ParamValue>>;
  startedAt: Date;
  /** Where the source files are; undefined for a pipeline without sources. */
  source: ObjectStore | undefined;
  lake: LakeLayout;
  /** Runs the refined tables (silver, gold), their expectations, quality_check and the headline: DuckDB or Spark. */
  engine: Engine;
  /**
   * Lands files and loads bronze tables (medallion's own ingestion, built on DuckDB's file readers), and keeps the
   * landing manifest: DuckDB whatever `engine` is.
   */
  ingestEngine: DuckDbEngine;
  /** Load files that an earlier run rejected again. */
  retryRejected: boolean;
  /** Rebuild incremental tables from all their input (the run's `--full-refresh`). */
  fullRefresh: boolean;
  progress: ProgressListener;
  /** A line for the try's log only (`medallion logs`): the detail a person reading it later wants. */
  log(message: string): void;
}

/** What a run is, without the means to do work: enough to render SQL and compute fingerprints. */
export type RunInfo = Omit<RunContext, 'engine' | 'ingestEngine' | 'progress' | 'log'>;

/**
 * A context for running one task on its own, outside a scheduled run (tools, benchmarks, tests): a manual run now,
 * every task on the one DuckDB engine given.
 */
export function standaloneContext(
  parts: Pick<RunContext, 'pipeline' | 'source' | 'lake'> & { engine: DuckDbEngine },
  startedAt = new Date(),
): RunContext {
  const now = startedAt.toISOString();
  return {
    ...parts,
    ingestEngine: parts.engine,
    runId: newRunId(startedAt),
    logicalDate: now.slice(0, 10),
    dataInterval: { start: now, end: now },
    params: {},
    startedAt,
    retryRejected: false,
    fullRefresh: false,
    progress: () => {},
    log: () => {},
  };
}
