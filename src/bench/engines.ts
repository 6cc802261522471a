/**
 * The engine comparison: the example pipeline at each scale with its silver and gold tables on DuckDB and on Spark
 * (the cluster of scripts/services/spark.sh, on the same cores), and Spark's fixed costs apart from the work.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { generateDemoData } from '../demo-data/generate.js';
import { SparkEngine } from '../engine/spark/engine.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { runPipeline } from '../runner/run-pipeline.js';
import type { RunSummary } from '../runner/run-summary.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { localLake } from '../table/lake-layout.js';
import type { EngineKind } from '../core/pipeline.js';

export interface EngineRun {
  engine: EngineKind;
  scale: number;
  /** The run, trigger to end. */
  totalMs: number;
  /** Its silver and gold tasks and quality_check (what the engine computes), summed. */
  refinedMs: number;
  /** Landing and bronze (DuckDB's in both). */
  ingestMs: number;
  headline: Record<string, unknown> | null;
  status: string;
}

export interface SparkFixedCosts {
  /** A new Spark Connect session, to its first answer. */
  sessionMs: number[];
  /** The first query on a new session. */
  firstQueryMs: number[];
  /** A trivial query on a warm session. */
  warmQueryMs: number[];
}

export type EnginesReport =
  { skipped: string } | { remote: string; fixed: SparkFixedCosts; runs: EngineRun[]; coresSpark: number };

const REFINED = /^(silver|gold)\.|^quality_check$/;

function split(summary: RunSummary): { refinedMs: number; ingestMs: number } {
  let refinedMs = 0;
  let ingestMs = 0;
  for (const task of summary.tasks) {
    if (REFINED.test(task.id)) refinedMs += task.durationMs;
    else ingestMs += task.durationMs;
  }
  return { refinedMs, ingestMs };
}

async function fixedCosts(remote: string, work: string): Promise<SparkFixedCosts> {
  const footers = await DuckDbEngine.create({ scratchDir: path.join(work, 'footers') });
  const costs: SparkFixedCosts = { sessionMs: [], firstQueryMs: [], warmQueryMs: [] };
  try {
    for (let round = 0; round < 5; round += 1) {
      let started = performance.now();
      const engine = await SparkEngine.create({
        remote,
        scratchDir: path.join(work, 'fixed'),
        localQuery: (sql) => footers.all(sql),
      });
      costs.sessionMs.push(performance.now() - started);
      started = performance.now();
      await engine.all('SELECT count(*) AS n FROM range(0, 1000)');
      costs.firstQueryMs.push(performance.now() - started);
      started = performance.now();
      await engine.all('SELECT 1 AS one');
      costs.warmQueryMs.push(performance.now() - started);
      engine.close();
    }
  } finally {
    footers.close();
  }
  return costs;
}

export async function benchEngines(options: {
  remote: string | undefined;
  scales: number[];
  work: string;
  logicalDate: string;
  memoryLimit: string;
  log: (message: string) => void;
}): Promise<EnginesReport> {
  const { remote, log } = options;
  if (!remote) return { skipped: 'no Spark Connect server (bash scripts/services/spark.sh start)' };
  const work = path.join(options.work, 'engines');
  await mkdir(work, { recursive: true });
  const fixed = await fixedCosts(remote, work);
  log(
    `engines: Spark session ${Math.round(Math.min(...fixed.sessionMs))} ms, first query ${Math.round(Math.min(...fixed.firstQueryMs))} ms`,
  );
  const runs: EngineRun[] = [];
  for (const scale of options.scales) {
    const source = path.join(work, `scale-${scale}`, 'source');
    log(`engines: generating scale-${scale} sample data`);
    await generateDemoData({ scale, seed: 42, outDir: source });
    for (const engine of ['duckdb', 'spark'] as const) {
      const lake = path.join(work, `scale-${scale}`, `${engine}-lake`);
      const started = performance.now();
      const summary = await runPipeline({
        pipeline,
        source: new LocalDiskStore(source),
        lake: localLake(lake),
        locations: {
          source,
          lake,
          ...(engine === 'spark' && { engine: { kind: 'spark', spark: { remote } } }),
        },
        logicalDate: options.logicalDate,
        memoryLimit: options.memoryLimit,
        scratchDir: path.join(work, 'scratch'),
      });
      const run: EngineRun = {
        engine,
        scale,
        totalMs: performance.now() - started,
        ...split(summary),
        headline: summary.headline ?? null,
        status: summary.status,
      };
      runs.push(run);
      log(
        `engines: scale ${scale} on ${engine}: ${(run.totalMs / 1000).toFixed(1)} s (silver, gold, checks ${(run.refinedMs / 1000).toFixed(1)} s of task time) ${summary.status}`,
      );
    }
  }
  return { remote, fixed, runs, coresSpark: 2 };
}
