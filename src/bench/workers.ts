/**
 * The workers part of `npm run bench` (issue 11, speed): no-op tasks through 1, 2 and 4 `medallion worker`
 * processes (workers-noop.ts), and the example pipeline at scale 10 on MinIO through one process, then 1 and 2
 * workers (workers-pipeline.ts), all on PostgreSQL. Needs the test PostgreSQL; the pipeline needs MinIO too.
 */
import { testS3Server } from '../services/test-s3-server.js';
import { testPostgresUrl } from '../testing/postgres.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { serverVersion } from './s3-server.js';
import type { SampleData } from './s3-buckets.js';
import { s3Unusable } from './s3-transfers.js';
import { postgresFoundIn, postgresVersion } from './scheduling.js';
import { benchNoopWorkers, type NoopOutcome } from './workers-noop.js';
import { benchPipelineWorkers, type WorkersPipelineResult } from './workers-pipeline.js';

export const WORKERS_TARGETS = {
  /** No-op tasks per second through 4 worker processes (the fan, first start → last end). */
  tasksPerSecond: 300,
  workersForThroughput: 4,
  /** p95 of queued → started over the chain's tasks, ms. */
  queuedToStartedP95Ms: 20,
  /** The pipeline with 2 workers ÷ one process doing it all. */
  pipelineRatio: 1.2,
};

/**
 * Slots of each executing process in the pipeline runs: those `medallion run` (runPipeline) uses, so that one
 * process here is the run the S3 part measures; tries of one run share their process's DuckDB and memory limit.
 */
export const PIPELINE_SLOTS = 2;
export const PIPELINE_SCALE = 10;

export interface WorkersResult {
  machine: MachineInfo;
  postgres: { foundIn: string; version: string };
  repeats: number;
  /** Slots of each worker process in the no-op runs (the targets are judged on the first). */
  slots: number[];
  noop: NoopOutcome[];
  pipeline: WorkersPipelineResult | { skipped: string } | { error: string };
  /** The MinIO server of the pipeline runs. */
  s3?: { endpoint: string; foundIn: string; version: string | undefined };
}

export type WorkersReport = WorkersResult | { skipped: string };

export interface WorkersOptions {
  repeats: number;
  slots: number[];
  work: string;
  memoryLimit: string;
  logicalDate: string;
  /** The scale-10 sample data when the run already generated it. */
  sample: SampleData | undefined;
  log: (message: string) => void;
}

export async function benchWorkers(options: WorkersOptions): Promise<WorkersReport> {
  const { log } = options;
  const postgresUrl = testPostgresUrl();
  if (typeof postgresUrl !== 'string') return { skipped: `needs PostgreSQL: ${postgresUrl.reason}` };
  const postgres = { foundIn: postgresFoundIn(), version: await postgresVersion(postgresUrl) };
  const noop = await benchNoopWorkers({ postgresUrl, repeats: options.repeats, slots: options.slots, log });
  let server = testS3Server();
  if (!('reason' in server)) {
    const unusable = await s3Unusable(server);
    if (unusable) server = { reason: unusable };
  }
  const base = {
    machine: await machineInfo(),
    postgres,
    repeats: options.repeats,
    slots: options.slots,
    noop,
  };
  if ('reason' in server) {
    log(`workers: the pipeline is not measured: ${server.reason}`);
    return { ...base, pipeline: { skipped: `needs MinIO: ${server.reason}` } };
  }
  const s3 = { endpoint: server.endpoint, foundIn: server.foundIn, version: await serverVersion(server) };
  const pipeline = await benchPipelineWorkers({
    server,
    postgresUrl,
    work: options.work,
    scale: PIPELINE_SCALE,
    sample: options.sample,
    memoryLimit: options.memoryLimit,
    slots: PIPELINE_SLOTS,
    repeats: options.repeats,
    logicalDate: options.logicalDate,
    log,
  }).catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
  return { ...base, pipeline, s3 };
}
