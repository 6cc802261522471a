import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definePipeline, type PipelineDefinition } from '../core/pipeline.js';
import type { MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { ManualClock } from '../testing/manual-clock.js';
import { backfill, clearRun, triggerRun } from './run-control.js';
import { Scheduler } from './scheduler.js';
import type { TaskJob, TaskReport, TaskRunner } from './task-runner.js';

/** Tasks whose behaviour each test sets; every call is recorded. */
class ScriptedRunner implements TaskRunner {
  calls: { run: string; task: string; attempt: number }[] = [];
  behaviour = new Map<string, (job: TaskJob, signal: AbortSignal) => Promise<void>>();
  fingerprints = new Map<string, string>();

  async fingerprint(job: TaskJob): Promise<string | undefined> {
    return this.fingerprints.get(job.task.id);
  }
  async describeSkipped(): Promise<TaskReport> {
    return { detail: 'skipped' };
  }
  async run(job: TaskJob, context: { signal: AbortSignal }): Promise<TaskReport> {
    this.calls.push({ run: job.run.id, task: job.task.id, attempt: job.attempt.attempt });
    await this.behaviour.get(job.task.id)?.(job, context.signal);
    return { detail: 'done' };
  }
  async finishRun(): Promise<unknown> {
    return { finished: true };
  }
  ran(task: string): number {
    return this.calls.filter((call) => call.task === task).length;
  }
}

const noop = async (): Promise<void> => {};

function pipeline(overrides: Partial<PipelineDefinition> = {}): PipelineDefinition {
  return definePipeline({
    name: 'p',
    sources: [],
    tables: [],
    tasks: [
      { name: 'extract', run: noop },
      { name: 'load', dependsOn: ['extract'], run: noop },
    ],
    ...overrides,
  });
}

let clock: ManualClock;
let store: MetadataStore;
let runner: ScriptedRunner;

beforeEach(async () => {
  clock = new ManualClock('2026-03-01T00:00:00Z');
  store = await openMetadataStore(':memory:', { clock: () => clock.now() });
  runner = new ScriptedRunner();
});

afterEach(async () => {
  await store.close();
});

function scheduler(definition: PipelineDefinition, options: { slots?: number } = {}): Scheduler {
  return new Scheduler({
    store,
    pipelines: [definition],
    runner,
    clock,
    slots: options.slots ?? 4,
    heartbeatMs: 5_000,
    staleAfterMs: 30_000,
    locations: () => ({ source: null, lake: '/lake' }),
  });
}

/** Passes until nothing changes any more (the tries this process runs included). */
async function settle(subject: Scheduler): Promise<void> {
  let before = '';
  for (let pass = 0; pass < 50; pass += 1) {
    await subject.tick();
    await subject.drain();
    const state = JSON.stringify(await snapshot());
    if (state === before) return;
    before = state;
  }
}

async function snapshot(): Promise<unknown[]> {
  const runs = await store.listRuns();
  return Promise.all(runs.map(async (run) => [run.state, await store.listTaskInstances(run.id)]));
}

async function states(run: RunRecord): Promise<Record<string, string>> {
  const tasks = await store.listTaskInstances(run.id);
  return Object.fromEntries(tasks.map((task) => [task.taskId, task.state]));
}

describe('the scheduler', () => {
  it('creates the run of an interval once it has ended, and only then', async () => {
    const definition = pipeline({ schedule: { every: '6h', startDate: '2026-03-01T00:00:00Z' } });
    const subject = scheduler(definition);
    await settle(subject);
    expect(await store.listRuns()).toHaveLength(0);

    await clock.advance(6 * 3_600_000);
    await settle(subject);
    const [run] = await store.listRuns();
    expect(run).toMatchObject({
      trigger: 'schedule',
      state: 'success',
      logicalDate: '2026-03-01T00:00:00.000Z',
      dataIntervalEnd: '2026-03-01T06:00:00.000Z',
    });
    expect(runner.calls.map((call) => call.task)).toEqual(['extract', 'load']);
  });

  it('runs nothing of a paused pipeline and catches up with the latest interval when unpaused', async () => {
    const definition = pipeline({
      schedule: { every: '1h', startDate: '2026-03-01T00:00:00Z', catchup: false },
    });
    const subject = scheduler(definition);
    await settle(subject);
    await store.setPaused('p', true);
    await clock.advance(5 * 3_600_000);
    await settle(subject);
    expect(await store.listRuns()).toHaveLength(0);

    await store.setPaused('p', false);
    await settle(subject);
    const runs = await store.listRuns();
    expect(runs.map((run) => run.logicalDate)).toEqual(['2026-03-01T04:00:00.000Z']);
  });

  it('retries a failed task after its delay, growing it when the backoff is exponential', async () => {
    const definition = pipeline({
      taskDefaults: { retries: 2, retryDelay: '1m', exponentialBackoff: true },
    });
    let failures = 2;
    runner.behaviour.set('extract', async () => {
      if (failures-- > 0) throw new Error('the source is not there yet');
    });
    const subject = scheduler(definition);
    const run = await triggerRun(store, definition, { now: clock.now() });
    await settle(subject);
    expect(await store.getTaskInstance(run.id, 'extract')).toMatchObject({
      state: 'up_for_retry',
      nextTryAt: '2026-03-01T00:01:00.000Z',
    });

    await clock.advance(60_000);
    await settle(subject);
    // The second failure waits twice as long.
    expect(await store.getTaskInstance(run.id, 'extract')).toMatchObject({
      state: 'up_for_retry',
      nextTryAt: '2026-03-01T00:03:00.000Z',
    });
    await clock.advance(60_000);
    await settle(subject);
    expect(runner.ran('extract')).toBe(2);

    await clock.advance(60_000);
    await settle(subject);
    expect(await store.getRun(run.id)).toMatchObject({ state: 'success' });
    const attempts = await store.listAttempts(run.id, 'extract');
    expect(attempts.map((attempt) => [attempt.state, attempt.reason])).toEqual([
      ['failed', 'the source is not there yet'],
      ['failed', 'the source is not there yet'],
      ['success', null],
    ]);
  });

  it('fails the run when the retries are used up, and marks what depends on the task', async () => {
    const definition = pipeline({ taskDefaults: { retries: 1, retryDelay: '1m' } });
    runner.behaviour.set('extract', async () => {
      throw new Error('broken for good');
    });
    const subject = scheduler(definition);
    const run = await triggerRun(store, definition, { now: clock.now() });
    await settle(subject);
    await clock.advance(60_000);
    await settle(subject);
    expect(await states(run)).toEqual({ extract: 'failed', load: 'upstream_failed' });
    expect(await store.getRun(run.id)).toMatchObject({ state: 'failed' });
    expect(runner.ran('load')).toBe(0);
  });

  it('fails a try that runs past its timeout and tells the task to stop', async () => {
    const definition = pipeline({
      tasks: [{ name: 'slow', run: noop, policy: { timeout: '10m', retries: 0 } }],
    });
    let stopped = false;
    runner.behaviour.set(
      'slow',
      (_job, signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            stopped = true;
            resolve();
          });
        }),
    );
    const subject = scheduler(definition);
    const run = await triggerRun(store, definition, { now: clock.now() });
    await subject.tick();
    await clock.advance(9 * 60_000);
    expect(await store.getTaskInstance(run.id, 'slow')).toMatchObject({ state: 'running' });
    await clock.advance(60_000);
    await settle(subject);
    expect(stopped).toBe(true);
    expect(await store.getRun(run.id)).toMatchObject({ state: 'failed' });
    const [attempt] = await store.listAttempts(run.id, 'slow');
    expect(attempt?.reason).toBe('timed out after 600 s');
  });

  it('fails a try whose process stopped sending heartbeats, then retries it', async () => {
    const definition = pipeline({ taskDefaults: { retries: 1, retryDelay: '1m' } });
    const run = await triggerRun(store, definition, { now: clock.now() });
    // Another process started the run and claimed the first task, then died: its heartbeat never moves.
    await store.transitionRun(run.id, ['queued'], 'running', { startedAt: clock.now().toISOString() });
    await store.transitionTask(run.id, 'extract', ['scheduled'], 'queued');
    const [claimed] = await store.claimTasks('dead-worker', 1, clock.now().toISOString());
    expect(claimed?.taskId).toBe('extract');

    const survivor = scheduler(definition);
    await clock.advance(31_000);
    await settle(survivor);
    const [first] = await store.listAttempts(run.id, 'extract');
    expect(first).toMatchObject({ state: 'failed', worker: 'dead-worker' });
    expect(first?.reason).toMatch(/no heartbeat since .*dead-worker/);
    await clock.advance(60_000);
    await settle(survivor);
    expect(await store.getRun(run.id)).toMatchObject({ state: 'success' });
  });

  it('skips a task whose inputs are unchanged since its last success, unless the run is forced', async () => {
    const definition = pipeline();
    runner.fingerprints.set('extract', 'inputs-v1');
    const subject = scheduler(definition);
    const first = await triggerRun(store, definition, { now: clock.now() });
    await settle(subject);
    const second = await triggerRun(store, definition, { now: clock.now() });
    await settle(subject);
    expect(await states(second)).toEqual({ extract: 'skipped', load: 'success' });
    expect(await store.getRun(second.id)).toMatchObject({ state: 'success' });

    runner.fingerprints.set('extract', 'inputs-v2');
    const third = await triggerRun(store, definition, { now: clock.now() });
    await settle(subject);
    const forced = await triggerRun(store, definition, { now: clock.now(), force: true });
    await settle(subject);
    expect(await states(third)).toMatchObject({ extract: 'success' });
    expect(await states(forced)).toMatchObject({ extract: 'success' });
    expect(runner.calls.filter((call) => call.task === 'extract').map((call) => call.run)).toEqual([
      first.id,
      third.id,
      forced.id,
    ]);
  });

  it('backfills the intervals in order, at most maxActiveRuns at once, and never twice', async () => {
    const definition = pipeline({
      schedule: { every: '1d', startDate: '2026-01-01T00:00:00Z', maxActiveRuns: 2 },
    });
    const created = await backfill(
      store,
      definition,
      new Date('2026-01-01T00:00:00Z'),
      new Date('2026-01-04T00:00:00Z'),
      clock.now(),
    );
    expect(created.map((entry) => [entry.run.logicalDate.slice(0, 10), entry.created])).toEqual([
      ['2026-01-01', true],
      ['2026-01-02', true],
      ['2026-01-03', true],
      ['2026-01-04', true],
    ]);
    const again = await backfill(
      store,
      definition,
      new Date('2026-01-01'),
      new Date('2026-01-04'),
      clock.now(),
    );
    expect(again.every((entry) => !entry.created)).toBe(true);

    let running = 0;
    let mostAtOnce = 0;
    runner.behaviour.set('extract', async () => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
    });
    const subject = scheduler(definition);
    await subject.tick();
    const started = (await store.listRuns({ states: ['running'] })).map((run) =>
      run.logicalDate.slice(0, 10),
    );
    expect(started.sort()).toEqual(['2026-01-01', '2026-01-02']);
    await settle(subject);
    expect(mostAtOnce).toBeLessThanOrEqual(2);
    const backfilled = (await store.listRuns({ states: ['success'] })).filter(
      (run) => run.trigger === 'backfill',
    );
    expect(backfilled).toHaveLength(4);
    for (const run of backfilled) expect(runner.calls.filter((call) => call.run === run.id)).toHaveLength(2);
  });

  it('clears the failed tasks of a finished run so that they run again with fresh retries', async () => {
    const definition = pipeline({ taskDefaults: { retries: 0 } });
    let broken = true;
    runner.behaviour.set('extract', async () => {
      if (broken) throw new Error('bad credentials');
    });
    const subject = scheduler(definition);
    const run = await triggerRun(store, definition, { now: clock.now() });
    await settle(subject);
    expect(await store.getRun(run.id)).toMatchObject({ state: 'failed' });

    broken = false;
    expect(await clearRun(store, definition, run.id)).toEqual(['extract', 'load']);
    await settle(subject);
    expect(await store.getRun(run.id)).toMatchObject({ state: 'success' });
    expect(await store.getTaskInstance(run.id, 'extract')).toMatchObject({ state: 'success', tryNumber: 2 });
    expect(await clearRun(store, definition, run.id)).toEqual([]);
  });

  it('clears only the named failed task and what did not run because of it', async () => {
    const definition = pipeline({
      taskDefaults: { retries: 0 },
      tasks: [
        { name: 'extract', run: noop },
        { name: 'load', dependsOn: ['extract'], run: noop },
        { name: 'audit', run: noop },
        { name: 'report', dependsOn: ['audit'], run: noop },
      ],
    });
    runner.behaviour.set('extract', async () => {
      throw new Error('extract broke');
    });
    runner.behaviour.set('audit', async () => {
      throw new Error('audit broke');
    });
    const run = await triggerRun(store, definition, { now: clock.now() });
    await settle(scheduler(definition));
    expect(await clearRun(store, definition, run.id, { tasks: ['audit'] })).toEqual(['audit', 'report']);
    expect(await states(run)).toMatchObject({ extract: 'failed', load: 'upstream_failed' });
  });

  it('runs independent tasks side by side, up to its slots', async () => {
    const definition = pipeline({
      tasks: ['a', 'b', 'c', 'd'].map((name) => ({ name, run: noop })),
    });
    let running = 0;
    let mostAtOnce = 0;
    for (const name of ['a', 'b', 'c', 'd']) {
      runner.behaviour.set(name, async () => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
      });
    }
    const subject = scheduler(definition, { slots: 3 });
    await triggerRun(store, definition, { now: clock.now() });
    await settle(subject);
    expect(mostAtOnce).toBe(3);
    expect(runner.calls).toHaveLength(4);
  });

  it('refuses a trigger whose parameters do not match the declarations, naming the parameter', async () => {
    const definition = pipeline({
      params: {
        region: { type: 'string', choices: ['north', 'south'] },
        limit: { type: 'integer', default: 10 },
      },
    });
    await expect(
      triggerRun(store, definition, { now: clock.now(), params: { region: 'east' } }),
    ).rejects.toThrow(/parameter region: "east" is not one of "north", "south"/);
    await expect(
      triggerRun(store, definition, { now: clock.now(), params: { colour: 'red' } }),
    ).rejects.toThrow(/parameter colour: the pipeline declares no such parameter/);
    const run = await triggerRun(store, definition, {
      now: clock.now(),
      params: { region: 'north', limit: '5' },
    });
    expect(run.params).toEqual({ region: 'north', limit: 5 });
  });
});
