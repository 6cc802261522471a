/**
 * No-op tasks through worker processes (issue 11, speed): the scheduling benchmark's fan (1,000 tasks) and chain
 * (100) run by `medallion worker` processes beside one `medallion scheduler --no-execute`, on PostgreSQL, each
 * fleet on a fresh schema. What is timed comes from the store (the run's end, each attempt's queuedAt, startedAt
 * and finishedAt) and from the tasks themselves (each stamps when it was called), not from this process's polling.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AttemptRecord, MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { triggerRun } from '../orchestrator/run-control.js';
import { loadPipelineModule } from '../project/pipelines.js';
import { TestSchemas } from '../testing/postgres.js';
import { noopModule, ranAt, SHAPE_TASKS, type NoopShape } from './noop-pipelines.js';
import { Fleet, type FleetCpu, type FleetProfile } from './worker-fleet.js';

export const WORKER_COUNTS = [1, 2, 4] as const;

/** Spread of a set of waits, ms. */
export interface Spread {
  p50: number;
  p95: number;
  min: number;
  max: number;
}

export interface NoopRunMeasure {
  workers: number;
  /** Slots of each worker. */
  slots: number;
  shape: NoopShape;
  round: number;
  tasks: number;
  /** From the trigger (createRun called) to the run recorded as finished by the scheduler. */
  triggerToFinishMs: number;
  /** From the first try's startedAt to the last one's finishedAt. */
  spanMs: number;
  /** From the trigger to the first task's run() call. */
  triggerToFirstMs: number;
  /** startedAt − queuedAt of every attempt (the claim's time as the store stamped it). */
  queuedToStarted: Spread;
  /** The task's run() call − queuedAt: the claim, the dispatch and the try's set-up included. */
  queuedToRan: Spread;
  /** Claims (attempts of one worker with one startedAt) and the tries each worker ran. */
  claims: number;
  perWorker: number[];
  cpu: FleetCpu;
  /** Store calls and SQL statements of the scheduler and of the workers during the run. */
  profile?: FleetProfile;
}

export interface NoopFailure {
  workers: number;
  slots: number;
  shape: NoopShape;
  round: number;
  error: string;
}

export type NoopOutcome = NoopRunMeasure | NoopFailure;

export function noopFailed(outcome: NoopOutcome): outcome is NoopFailure {
  return 'error' in outcome;
}

export interface NoopBenchOptions {
  postgresUrl: string;
  repeats: number;
  /** Slots of each worker: every worker count is run with each. */
  slots: readonly number[];
  workerCounts?: readonly number[];
  log: (message: string) => void;
}

const RUN_LIMIT_MS = 120_000;

/**
 * Every worker count with every slot count, `repeats` times (rounds interleaved), each on fresh processes and a
 * fresh schema.
 */
export async function benchNoopWorkers(options: NoopBenchOptions): Promise<NoopOutcome[]> {
  const schemas = new TestSchemas(options.postgresUrl);
  const outcomes: NoopOutcome[] = [];
  try {
    for (let round = 1; round <= options.repeats; round += 1) {
      const cases = options.slots.flatMap((slots) =>
        (options.workerCounts ?? WORKER_COUNTS).map((workers) => ({ workers, slots, round })),
      );
      for (const { workers, slots } of cases) {
        const label = `workers: ${workers} worker${workers === 1 ? '' : 's'} × ${slots} slots #${round}`;
        try {
          const measures = await oneFleet(schemas, { workers, slots, round });
          for (const measure of measures) {
            outcomes.push(measure);
            options.log(`${label} ${measure.shape}: ${describe(measure)}`);
          }
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          options.log(`${label}: FAILED: ${message}`);
          for (const shape of ['fan', 'chain'] as const)
            outcomes.push({ workers, slots, shape, round, error: message });
        }
      }
    }
  } finally {
    await schemas.dropAll();
  }
  return outcomes;
}

function describe(measure: NoopRunMeasure): string {
  const perSecond = (ms: number) => Math.round(measure.tasks / (ms / 1000));
  return (
    `${perSecond(measure.spanMs)} tasks/s first start → last end, ${perSecond(measure.triggerToFinishMs)} tasks/s ` +
    `trigger → finished (${measure.triggerToFinishMs} ms); queued → started p95 ${measure.queuedToStarted.p95} ms, ` +
    `queued → run() p95 ${measure.queuedToRan.p95.toFixed(1)} ms; ${measure.claims} claims`
  );
}

/**
 * One fleet on a fresh schema: an unmeasured warm-up run of the chain (the processes' first queries and code
 * paths), then the fan and the chain, measured.
 */
async function oneFleet(
  schemas: TestSchemas,
  what: { workers: number; slots: number; round: number },
): Promise<NoopRunMeasure[]> {
  const { workers, slots, round } = what;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-workers-'));
  const database = schemas.url(schemas.name(`workers_${workers}_${slots}_${round}`));
  let fleet: Fleet | undefined;
  let store: MetadataStore | undefined;
  try {
    const modules: Record<NoopShape, string> = {
      fan: path.join(dir, 'fan.mjs'),
      chain: path.join(dir, 'chain.mjs'),
    };
    for (const shape of ['fan', 'chain'] as const) await writeFile(modules[shape], noopModule(shape));
    const config = path.join(dir, 'medallion.config.json');
    await writeFile(
      config,
      JSON.stringify({
        database,
        pipelines: { bench_fan: { module: 'fan.mjs' }, bench_chain: { module: 'chain.mjs' } },
      }),
    );
    store = await openMetadataStore(database);
    const profileDir = path.join(dir, 'profiles');
    await mkdir(profileDir);
    fleet = await Fleet.start({
      profileDir,
      config,
      database,
      executors: workers,
      executorArgs: ['--slots', String(slots)],
      // The tasks write nothing; their runs name a lake directory here, which processes on one machine share.
      args: ['--single-host'],
      tag: `mbench_${process.pid}_${workers}_${slots}_${round}`,
    });
    const lake = path.join(dir, 'lake');
    // The same module files the processes loaded: the same definitions, so the same definition hashes.
    const pipelines = {
      fan: await loadPipelineModule(modules.fan),
      chain: await loadPipelineModule(modules.chain),
    };
    const run = async (shape: NoopShape) => {
      await fleet!.profile();
      const before = await fleet!.sample();
      const triggeredAt = Date.now();
      const created = await triggerRun(store!, pipelines[shape], {
        now: new Date(triggeredAt),
        locations: { source: null, lake },
      });
      const finished = await untilFinished(store!, created.id, fleet!);
      const cpu = Fleet.cpuBetween(before, await fleet!.sample());
      const profile = await fleet!.profile();
      const measure = measureRun(finished, await store!.listAttempts(created.id), triggeredAt, cpu, {
        ...what,
        shape,
      });
      return profile ? { ...measure, profile } : measure;
    };
    await run('chain');
    return [await run('fan'), await run('chain')];
  } finally {
    await fleet?.stop();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The run once finished (polled: when it ended is the scheduler's record, not the poll's). */
export async function untilFinished(
  store: MetadataStore,
  runId: string,
  fleet: Fleet,
  limitMs = RUN_LIMIT_MS,
): Promise<RunRecord> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const run = await store.getRun(runId);
    if (run?.finishedAt) return run;
    if (Date.now() > deadline)
      throw new Error(`run ${runId} not finished after ${limitMs / 1000} s\n${fleet.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function measureRun(
  run: RunRecord,
  attempts: AttemptRecord[],
  triggeredAt: number,
  cpu: FleetCpu,
  what: { workers: number; slots: number; shape: NoopShape; round: number },
): NoopRunMeasure {
  const tasks = SHAPE_TASKS[what.shape];
  if (run.state !== 'success' || attempts.length !== tasks) {
    throw new Error(`the ${what.shape} run was ${run.state} with ${attempts.length} of ${tasks} tries`);
  }
  const time = (iso: string | null) => (iso === null ? Number.NaN : Date.parse(iso));
  const ran = attempts.map((attempt) => ranAt(attempt.output) ?? Number.NaN);
  const claims = new Set(attempts.map((attempt) => `${attempt.worker} ${attempt.startedAt}`));
  const perWorker = new Map<string, number>();
  for (const attempt of attempts) perWorker.set(attempt.worker, (perWorker.get(attempt.worker) ?? 0) + 1);
  return {
    ...what,
    tasks,
    triggerToFinishMs: time(run.finishedAt) - triggeredAt,
    spanMs:
      Math.max(...attempts.map((attempt) => time(attempt.finishedAt))) -
      Math.min(...attempts.map((attempt) => time(attempt.startedAt))),
    triggerToFirstMs: round1(Math.min(...ran) - triggeredAt),
    queuedToStarted: spread(attempts.map((attempt) => time(attempt.startedAt) - time(attempt.queuedAt))),
    queuedToRan: spread(
      attempts.map((attempt, index) => (ran[index] ?? Number.NaN) - time(attempt.queuedAt)),
    ),
    claims: claims.size,
    perWorker: [...perWorker.values()].sort((a, b) => b - a),
    cpu,
  };
}

/** Nearest-rank percentiles; NaN (a missing time) fails the measurement rather than hiding in it. */
export function spread(values: number[]): Spread {
  if (values.length === 0 || values.some((value) => !Number.isFinite(value))) {
    throw new Error('an attempt lacks its queuedAt, startedAt or the time its task ran');
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (fraction: number) => sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
  return {
    p50: round1(rank(0.5)),
    p95: round1(rank(0.95)),
    min: round1(sorted[0] ?? 0),
    max: round1(sorted[sorted.length - 1] ?? 0),
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
