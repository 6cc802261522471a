/**
 * Scheduling overhead (issue 4): synthetic pipelines of tasks that do nothing, driven by the orchestrator's
 * Scheduler against a metadata store, so that all the time measured is the orchestrator's: the store's queries,
 * the state machine, the executor. Two shapes: a fan (one start task, 998 tasks in parallel, one end task
 * depending on all of them) and a chain of 100 tasks each depending on the previous one; on SQLite (a fresh file)
 * and on PostgreSQL (a fresh schema) when a test server is found.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { newRun } from '../orchestrator/run-control.js';
import { Scheduler } from '../orchestrator/scheduler.js';
import type { TaskReport, TaskRunner } from '../orchestrator/task-runner.js';
import { POSTGRES_ENV_FILE, TestSchemas, testPostgresUrl } from '../testing/postgres.js';
import type { OperationTiming } from './measure.js';
import { chainPipeline, fanPipeline, SHAPE_TASKS, type NoopShape } from './noop-pipelines.js';
import { OperationTally, timedStore } from './timed-store.js';

export type SchedulingBackend = 'sqlite' | 'postgres';
export type SchedulingShape = NoopShape;

export const SCHEDULING_TARGETS = {
  /** Scheduling overhead per task, ms. */
  perTaskMs: { sqlite: 5, postgres: 20 } satisfies Record<SchedulingBackend, number>,
  /** From the trigger to the first task's start, ms. */
  firstTaskMs: 100,
};

/** Tries run at once: the fan's 998 middle tasks can all run together; a chain runs one task at a time. */
export const DEFAULT_SCHEDULING_SLOTS: Record<SchedulingShape, number> = { fan: 8, chain: 1 };

/** One run of one synthetic pipeline through a Scheduler. */
export interface SchedulingMeasure {
  backend: SchedulingBackend;
  shape: SchedulingShape;
  tasks: number;
  slots: number;
  /** The trigger itself: the run and its task instances written in one transaction (triggerRun's createRun). */
  triggerMs: number;
  /** From the trigger's return (the scheduler already running, idle, and woken) to the first task's run(). */
  firstTaskMs: number;
  /** From the trigger's call to the run recorded as finished, trigger included. */
  wallMs: number;
  /** wallMs ÷ tasks: the tasks do nothing, so all of it is overhead. */
  perTaskMs: number;
  /** Scheduler passes (ticks) during the run. */
  ticks: number;
  /** CPU time of this process during the run, ms (the database server's is not counted). */
  cpuMs: number;
  /** Every metadata store call during the run, by method. */
  operations: OperationTiming[];
}

export interface SchedulingFailure {
  backend: SchedulingBackend;
  shape: SchedulingShape;
  slots: number;
  error: string;
}

export interface SchedulingResult {
  /** How many times each case was run. */
  repeats: number;
  /** The PostgreSQL server used, or why there was none. */
  postgres: { foundIn: string; version: string } | { skipped: string };
  measures: (SchedulingMeasure | SchedulingFailure)[];
}

export function schedulingFailed(value: SchedulingMeasure | SchedulingFailure): value is SchedulingFailure {
  return 'error' in value;
}

/** A run taking longer is stopped and reported as failed. */
const RUN_LIMIT_MS = 300_000;

/** Runs nothing: records when the first try started and when the run was over. */
class NoopRunner implements TaskRunner {
  calls = 0;
  firstRunAt: number | undefined;
  finishedAt: number | undefined;

  async fingerprint(): Promise<undefined> {
    return undefined;
  }

  async describeSkipped(): Promise<TaskReport> {
    return { detail: 'skipped' };
  }

  async run(): Promise<TaskReport> {
    this.firstRunAt ??= performance.now();
    this.calls += 1;
    return { detail: 'no-op' };
  }

  async finishRun(): Promise<unknown> {
    this.finishedAt = performance.now();
    return { tasks: this.calls };
  }
}

/**
 * One run of `pipeline` on the store at `url`: a Scheduler (createScheduledRuns false, scoped to the run) is
 * started and left idle, then the run is triggered and the scheduler woken, as `medallion trigger` in the
 * scheduler's process would.
 */
export async function measureScheduling(
  url: string,
  backend: SchedulingBackend,
  shape: SchedulingShape,
  slots: number,
): Promise<SchedulingMeasure> {
  const pipeline = shape === 'fan' ? fanPipeline() : chainPipeline();
  const tasks = SHAPE_TASKS[shape];
  const store = await openMetadataStore(url);
  const tally = new OperationTally();
  const timed: MetadataStore = timedStore(store, tally, (method) => method);
  const runner = new NoopRunner();
  try {
    // triggerRun() is store.createRun(newRun(…)); building the NewRun first gives its id to scope the scheduler.
    const now = new Date();
    const request = newRun(pipeline, { trigger: 'manual', interval: { start: now, end: now }, now });
    const scheduler = new Scheduler({
      store: timed,
      pipelines: [pipeline],
      runner,
      slots,
      createScheduledRuns: false,
      runIds: [request.id],
      onError: (error) => {
        throw error;
      },
    });
    let ticks = 0;
    let firstPass: () => void = () => {};
    const idle = new Promise<void>((resolve) => (firstPass = resolve));
    const looping = scheduler.loop(async () => {
      ticks += 1;
      firstPass();
      return runner.finishedAt !== undefined;
    });
    // The scheduler has registered the pipeline, found nothing to do and sleeps until polled or woken.
    await Promise.race([idle, looping]);
    await sleep(50);
    tally.reset();
    ticks = 0;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await timed.createRun(request);
    const triggered = performance.now();
    scheduler.wake();
    // A run that never ends (a bug) stops the scheduler instead of hanging the benchmark.
    const limit = setTimeout(() => void scheduler.stop(), RUN_LIMIT_MS);
    try {
      await looping;
      await scheduler.drain();
    } finally {
      clearTimeout(limit);
    }
    const ended = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const run = await store.getRun(request.id);
    if (run?.state !== 'success' || runner.calls !== tasks || runner.firstRunAt === undefined) {
      throw new Error(
        `the ${shape} run was ${run?.state ?? 'missing'} after ${runner.calls} of ${tasks} tasks` +
          (runner.finishedAt === undefined ? ` (stopped after ${RUN_LIMIT_MS / 1000} s)` : ''),
      );
    }
    const wallMs = ended - started;
    return {
      backend,
      shape,
      tasks,
      slots,
      triggerMs: round(triggered - started),
      firstTaskMs: round(runner.firstRunAt - triggered),
      wallMs: round(wallMs),
      perTaskMs: round(wallMs / tasks, 3),
      ticks,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      operations: tally.operations().sort((a, b) => b.busyMs - a.busyMs),
    };
  } finally {
    await store.close();
  }
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface SchedulingOptions {
  /** Runs of each case (default 2). */
  repeats?: number;
  /** Slots per shape (default DEFAULT_SCHEDULING_SLOTS). */
  slots?: Partial<Record<SchedulingShape, number[]>>;
  backends?: SchedulingBackend[];
  log?: (message: string) => void;
}

/** Every case on SQLite and (when a test server is found) PostgreSQL, each `repeats` times, interleaved. */
export async function benchScheduling(options: SchedulingOptions = {}): Promise<SchedulingResult> {
  const repeats = options.repeats ?? 2;
  const log = options.log ?? (() => {});
  const backends = options.backends ?? ['sqlite', 'postgres'];
  const server = backends.includes('postgres') ? testPostgresUrl() : { reason: 'not asked for' };
  const postgres: SchedulingResult['postgres'] =
    typeof server === 'string'
      ? { foundIn: postgresFoundIn(), version: await postgresVersion(server) }
      : { skipped: server.reason };
  if ('skipped' in postgres) log(`scheduling: PostgreSQL not measured: ${postgres.skipped}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-scheduling-'));
  const schemas = new TestSchemas(typeof server === 'string' ? server : undefined);
  const measures: SchedulingResult['measures'] = [];
  try {
    for (let round = 1; round <= repeats; round += 1) {
      for (const backend of backends) {
        if (backend === 'postgres' && typeof server !== 'string') continue;
        for (const shape of ['fan', 'chain'] as const) {
          for (const slots of options.slots?.[shape] ?? [DEFAULT_SCHEDULING_SLOTS[shape]]) {
            // A fresh database for every measurement: a new SQLite file, a new PostgreSQL schema.
            const url =
              backend === 'sqlite'
                ? `sqlite:${path.join(dir, `${shape}_${slots}_${round}.db`)}`
                : schemas.url(schemas.name(`bench_${shape}_${slots}_${round}`));
            const label = `scheduling ${backend} ${shape} (${SHAPE_TASKS[shape]} tasks, ${slots} slots) #${round}`;
            try {
              const measure = await measureScheduling(url, backend, shape, slots);
              measures.push(measure);
              log(
                `${label}: ${measure.perTaskMs.toFixed(2)} ms/task (${measure.wallMs} ms), ` +
                  `first task ${measure.firstTaskMs} ms after the trigger (${measure.triggerMs} ms), ${measure.ticks} passes`,
              );
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              measures.push({ backend, shape, slots, error: message });
              log(`${label}: FAILED: ${message}`);
            }
          }
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await schemas.dropAll();
  }
  return { repeats, postgres, measures };
}

/** Where the test PostgreSQL server's URL was found, for reports. */
export function postgresFoundIn(): string {
  return process.env.MEDALLION_TEST_POSTGRES_URL
    ? 'MEDALLION_TEST_POSTGRES_URL'
    : path.relative(process.cwd(), POSTGRES_ENV_FILE);
}

/** `PostgreSQL 15.x (…)`, from the server itself. */
export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('show server_version');
    return `PostgreSQL ${result.rows[0]?.server_version ?? '?'}`;
  } finally {
    await client.end();
  }
}
