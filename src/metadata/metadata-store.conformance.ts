/**
 * The behaviour every MetadataStore must have, as one vitest suite that sqlite.test.ts and postgres.test.ts run
 * against their database. The race cases start real `node` processes that import the built store
 * (dist/metadata/open.js), so run `npm run build` first (`npm test` does).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { MetadataStore, NewRun } from './metadata-store.js';
import { MIGRATIONS } from './migrations.js';
import { SecretBox } from '../security/secret-box.js';
import { openMetadataStore } from './open.js';
import { describeAccountsConformance } from './accounts.conformance.js';
import { describeQueueConformance } from './queue.conformance.js';
import { describeRunControlConformance } from './run-control.conformance.js';
import { describeSnapshotConformance } from './snapshot.conformance.js';

export interface ConformanceTarget {
  /** A URL for openMetadataStore naming a fresh, empty database (or schema) no other test uses. */
  freshUrl(): Promise<string>;
  /** Called once after the suite (drop schemas, delete files). */
  cleanup?(): Promise<void>;
  /**
   * Whether two stores in this one process can work concurrently (true for PostgreSQL's pools; false for
   * SQLite, whose synchronous driver blocks the thread while it waits for a lock). Cross-process races run
   * either way.
   */
  concurrentInProcess: boolean;
}

const BUILT_OPEN = fileURLToPath(new URL('../../dist/metadata/open.js', import.meta.url));

const T0 = Date.parse('2024-03-01T00:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const hours = (count: number): string => at(count * 3600);

function newRun(overrides: Partial<NewRun> & { id: string }): NewRun {
  const logicalDate = overrides.logicalDate ?? hours(0);
  return {
    pipeline: 'sales',
    logicalDate,
    dataIntervalStart: logicalDate,
    dataIntervalEnd:
      overrides.dataIntervalEnd ?? new Date(Date.parse(logicalDate) + 6 * 3600_000).toISOString(),
    trigger: 'schedule',
    params: {},
    tasks: [
      { taskId: 'extract', maxTries: 2 },
      { taskId: 'load', maxTries: 2 },
    ],
    ...overrides,
  };
}

/** Queues every task of the run. */
async function queueAll(store: MetadataStore, runId: string): Promise<void> {
  for (const task of await store.listTaskInstances(runId)) {
    expect(await store.transitionTask(runId, task.taskId, ['scheduled'], 'queued')).toBe(true);
  }
}

// ── real processes racing ────────────────────────────────────────────────────────────────────────────────

const RACE_SCRIPT = `
import { createInterface } from 'node:readline';
const [openModule, url, mode, configJson] = process.argv.slice(2);
const { openMetadataStore } = await import(openModule);
const config = JSON.parse(configJson);
// Both processes migrate at the same moment: that is a race too.
const store = await openMetadataStore(url);
process.stdout.write('ready\\n');
await new Promise((resolve) => {
  const lines = createInterface({ input: process.stdin });
  lines.once('line', () => { lines.close(); resolve(); });
});
const pause = () => new Promise((resolve) => setTimeout(resolve, config.pauseMs ?? 0));
const result = [];
if (mode === 'create') {
  for (const date of config.dates) {
    const { run, created } = await store.createRun({
      id: config.worker + '@' + date, pipeline: config.pipeline, logicalDate: date,
      dataIntervalStart: date, dataIntervalEnd: date, trigger: config.trigger, params: { worker: config.worker },
      tasks: config.tasks.map((taskId) => ({ taskId, maxTries: 1 })),
    });
    result.push({ date, id: run.id, created });
    await pause();
  }
} else if (mode === 'alert') {
  for (const cause of config.causes) {
    const decision = await store.recordAlert({
      cause, occurrence: config.worker, at: config.at, groupWindowMs: 3600000,
      kind: 'run_failed', severity: 'error', title: cause, text: 'reported by ' + config.worker,
    });
    result.push({ cause, send: decision.send });
    await pause();
  }
} else if (mode === 'claim') {
  for (;;) {
    const claimed = await store.claimTasks(config.worker, config.limit, new Date().toISOString());
    if (claimed.length === 0) break;
    for (const attempt of claimed) result.push(attempt.runId + '/' + attempt.taskId + '#' + attempt.attempt);
    await pause();
  }
}
await store.close();
process.stdout.write(JSON.stringify(result) + '\\n');
`;

let raceDir: string | undefined;

async function raceScript(): Promise<string> {
  if (!existsSync(BUILT_OPEN)) {
    throw new Error(`${BUILT_OPEN} does not exist: run \`npm run build\` before the metadata store tests`);
  }
  raceDir ??= await mkdtemp(path.join(tmpdir(), 'medallion-metadata-race-'));
  const file = path.join(raceDir, 'race.mjs');
  await writeFile(file, RACE_SCRIPT);
  return file;
}

/**
 * Starts one process per config, waits until every one has opened (and migrated) the store, then releases them
 * all at once and returns what each printed.
 */
async function race<T>(url: string, mode: 'create' | 'claim' | 'alert', configs: object[]): Promise<T[]> {
  const script = await raceScript();
  const children = configs.map((config) => {
    const child = spawn(
      process.execPath,
      [script, new URL(`file://${BUILT_OPEN}`).href, url, mode, JSON.stringify(config)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    let announce: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (announce = resolve));
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) announce();
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<T>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        if (code !== 0) {
          reject(new Error(`race process exited with ${code}: ${stderr || stdout}`));
          return;
        }
        resolve(JSON.parse(last) as T);
      });
    });
    return { child, ready: Promise.race([ready, exited.then(() => undefined)]), exited };
  });
  try {
    await Promise.all(children.map((entry) => entry.ready));
    for (const { child } of children) child.stdin.end('go\n');
    return await Promise.all(children.map((entry) => entry.exited));
  } finally {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

// ── the suite ────────────────────────────────────────────────────────────────────────────────────────────

export function describeMetadataStoreConformance(name: string, target: ConformanceTarget): void {
  describe(`${name} metadata store`, () => {
    const open: MetadataStore[] = [];

    async function freshStore(
      options: { migrate?: boolean; clock?: () => Date } = {},
    ): Promise<{ store: MetadataStore; url: string }> {
      const url = await target.freshUrl();
      const store = await openMetadataStore(url, options);
      open.push(store);
      return { store, url };
    }

    async function another(url: string): Promise<MetadataStore> {
      const store = await openMetadataStore(url);
      open.push(store);
      return store;
    }

    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    afterAll(async () => {
      await target.cleanup?.();
      if (raceDir) await rm(raceDir, { recursive: true, force: true });
      raceDir = undefined;
    });

    it('applies its migrations once, records them, and does nothing on a second migrate', async () => {
      const { store, url } = await freshStore({ migrate: false });
      await store.migrate();
      const applied = await store.appliedMigrations();
      expect(applied.length).toBeGreaterThan(0);
      expect(applied).toEqual([...applied].sort((a, b) => a - b));
      await store.migrate();
      expect(await store.appliedMigrations()).toEqual(applied);
      // A second store on the same database migrates (and finds nothing to do) without error.
      const second = await another(url);
      expect(await second.appliedMigrations()).toEqual(applied);
      await store.upsertPipeline('sales', 'hash-1');
      expect(await second.getPipeline('sales')).toMatchObject({ name: 'sales', definitionHash: 'hash-1' });
    });

    it('records pipelines, and pauses and unpauses known ones only', async () => {
      const { store } = await freshStore();
      expect(await store.setPaused('nope', true)).toBe(false);
      expect(await store.isPaused('nope')).toBe(false);
      await store.upsertPipeline('sales', 'hash-1');
      expect(await store.isPaused('sales')).toBe(false);
      expect(await store.setPaused('sales', true)).toBe(true);
      expect(await store.isPaused('sales')).toBe(true);
      // Re-registering a changed definition keeps the pause.
      await store.upsertPipeline('sales', 'hash-2');
      expect(await store.getPipeline('sales')).toMatchObject({ definitionHash: 'hash-2', paused: true });
      expect(await store.setPaused('sales', false)).toBe(true);
      expect(await store.isPaused('sales')).toBe(false);
      await store.upsertPipeline('audit', 'hash-a');
      expect((await store.listPipelines()).map((pipeline) => pipeline.name)).toEqual(['audit', 'sales']);
    });

    it('creates a scheduled run exactly once for the same logical date, and manual runs every time', async () => {
      const { store } = await freshStore();
      const first = await store.createRun(newRun({ id: 'run-1', params: { full: true } }));
      expect(first.created).toBe(true);
      expect(first.run).toMatchObject({
        id: 'run-1',
        pipeline: 'sales',
        logicalDate: hours(0),
        dataIntervalEnd: hours(6),
        trigger: 'schedule',
        params: { full: true },
        state: 'queued',
        startedAt: null,
        finishedAt: null,
        summary: null,
      });
      expect(
        (await store.listTaskInstances('run-1')).map((task) => [task.taskId, task.state, task.tryNumber]),
      ).toEqual([
        ['extract', 'scheduled', 0],
        ['load', 'scheduled', 0],
      ]);

      // The same logical date, written differently, from the scheduler again or from a backfill: the same run.
      const again = await store.createRun(
        newRun({
          id: 'run-2',
          logicalDate: '2024-03-01T01:00:00+01:00',
          tasks: [{ taskId: 'other', maxTries: 1 }],
        }),
      );
      expect(again).toEqual({ run: first.run, created: false });
      const backfill = await store.createRun(newRun({ id: 'run-3', trigger: 'backfill' }));
      expect(backfill.created).toBe(false);
      expect(backfill.run.id).toBe('run-1');
      expect(await store.getRun('run-2')).toBeUndefined();
      expect((await store.listTaskInstances('run-1')).map((task) => task.taskId)).toEqual([
        'extract',
        'load',
      ]);

      // Manual runs for that date are always new; a reused id is an error, not a silent no-op.
      const manual1 = await store.createRun(newRun({ id: 'manual-1', trigger: 'manual' }));
      const manual2 = await store.createRun(newRun({ id: 'manual-2', trigger: 'manual' }));
      expect([manual1.created, manual2.created]).toEqual([true, true]);
      await expect(store.createRun(newRun({ id: 'manual-1', trigger: 'manual' }))).rejects.toThrow(
        /manual-1/,
      );
      await expect(store.createRun(newRun({ id: 'run-1', logicalDate: hours(6) }))).rejects.toThrow(/run-1/);

      // Another pipeline, or another date, is another run.
      expect((await store.createRun(newRun({ id: 'run-4', pipeline: 'audit' }))).created).toBe(true);
      expect((await store.createRun(newRun({ id: 'run-5', logicalDate: hours(6) }))).created).toBe(true);
    });

    it('creates each run exactly once when two processes race to create the same logical dates', async () => {
      const url = await target.freshUrl();
      const dates = Array.from({ length: 25 }, (_, index) => hours(index * 6));
      const tasks = ['a', 'b', 'c'];
      const results = await race<{ date: string; id: string; created: boolean }[]>(url, 'create', [
        { worker: 'p1', pipeline: 'sales', trigger: 'schedule', dates, tasks, pauseMs: 2 },
        { worker: 'p2', pipeline: 'sales', trigger: 'backfill', dates, tasks, pauseMs: 2 },
      ]);
      const [one = [], two = []] = results;
      expect(one).toHaveLength(dates.length);
      expect(two).toHaveLength(dates.length);
      for (let index = 0; index < dates.length; index += 1) {
        const a = one[index];
        const b = two[index];
        // Both processes got the same run back; exactly one of them created it.
        expect(a?.id).toBe(b?.id);
        expect(Number(a?.created) + Number(b?.created)).toBe(1);
      }
      const createdBy = (results: { created: boolean }[]): number =>
        results.filter((result) => result.created).length;
      console.info(`${name}: runs created ${createdBy(one)}/${createdBy(two)} by the two processes`);
      const store = await another(url);
      const runs = await store.listRuns({ pipeline: 'sales' });
      expect(runs).toHaveLength(dates.length);
      expect(runs.map((run) => run.logicalDate)).toEqual([...dates].reverse());
      for (const run of runs) expect(await store.listTaskInstances(run.id)).toHaveLength(tasks.length);
      // Both processes migrated the fresh database at the same moment; each migration is recorded once.
      expect(await store.appliedMigrations()).toEqual(MIGRATIONS.map((migration) => migration.version));
    });

    // Registered only where it applies, so that a skip always means a missing service.
    if (target.concurrentInProcess)
      it('creates a run exactly once when two stores in one process race for the same logical date', async () => {
        const { store, url } = await freshStore();
        const other = await another(url);
        const attempts = Array.from({ length: 20 }, (_, index) =>
          (index % 2 === 0 ? store : other).createRun(newRun({ id: `race-${index}` })),
        );
        const outcomes = await Promise.all(attempts);
        expect(outcomes.filter((outcome) => outcome.created)).toHaveLength(1);
        expect(new Set(outcomes.map((outcome) => outcome.run.id)).size).toBe(1);
        expect(await store.listRuns()).toHaveLength(1);
      });

    it('refuses a run or task transition from a stale state (compare and set)', async () => {
      const { store } = await freshStore();
      await store.createRun(newRun({ id: 'run-1' }));
      expect(await store.transitionRun('run-1', ['queued'], 'running', { startedAt: at(5) })).toBe(true);
      // A second scheduler that still believes the run is queued loses.
      expect(await store.transitionRun('run-1', ['queued'], 'running', { startedAt: at(9) })).toBe(false);
      expect(await store.getRun('run-1')).toMatchObject({ state: 'running', startedAt: at(5) });
      expect(await store.transitionRun('run-1', [], 'failed')).toBe(false);
      expect(await store.transitionRun('missing', ['queued', 'running'], 'failed')).toBe(false);
      const summary = { tasks: { success: 2 }, note: 'ok' };
      expect(
        await store.transitionRun('run-1', ['queued', 'running'], 'success', { finishedAt: at(60), summary }),
      ).toBe(true);
      expect(await store.getRun('run-1')).toMatchObject({ state: 'success', finishedAt: at(60), summary });

      expect(await store.transitionTask('run-1', 'extract', ['scheduled'], 'queued')).toBe(true);
      expect(await store.transitionTask('run-1', 'extract', ['scheduled'], 'queued')).toBe(false);
      expect(
        await store.transitionTask('run-1', 'extract', ['queued'], 'up_for_retry', {
          nextTryAt: at(300),
          fingerprint: 'fp-1',
        }),
      ).toBe(true);
      expect(await store.getTaskInstance('run-1', 'extract')).toMatchObject({
        state: 'up_for_retry',
        nextTryAt: at(300),
        fingerprint: 'fp-1',
        maxTries: 2,
      });
      // Fields not given stay; null clears; maxTries can be raised (clearing a failed task).
      expect(
        await store.transitionTask('run-1', 'extract', ['up_for_retry'], 'queued', { nextTryAt: null }),
      ).toBe(true);
      expect(await store.transitionTask('run-1', 'extract', ['queued'], 'failed', { maxTries: 3 })).toBe(
        true,
      );
      expect(await store.getTaskInstance('run-1', 'extract')).toMatchObject({
        state: 'failed',
        nextTryAt: null,
        fingerprint: 'fp-1',
        maxTries: 3,
      });
      expect(await store.transitionTask('run-1', 'nope', ['scheduled'], 'queued')).toBe(false);
    });

    it('transitions many tasks of a run at once, each only from the states given', async () => {
      let now = T0;
      const { store } = await freshStore({ clock: () => new Date(now) });
      const tasks = Array.from({ length: 1_203 }, (_, index) => ({
        taskId: `t_${String(index).padStart(4, '0')}`,
        maxTries: 1,
      }));
      await store.createRun(newRun({ id: 'run-1', tasks }));
      await store.createRun(newRun({ id: 'run-2', logicalDate: hours(6), tasks }));
      expect(await store.transitionTask('run-1', 't_0001', ['scheduled'], 'running')).toBe(true);
      now += 1000;
      // More ids than one statement takes; a duplicate, an unknown id and a task in another state are left out.
      const ids = [...tasks.map((task) => task.taskId).reverse(), 't_0002', 'nope'];
      const changed = await store.transitionTasks('run-1', ids, ['scheduled', 'up_for_retry'], 'queued', {
        nextTryAt: null,
        fingerprint: 'fp',
      });
      expect(changed).toEqual(tasks.map((task) => task.taskId).filter((id) => id !== 't_0001'));
      const instances = await store.listTaskInstances('run-1');
      expect(instances.filter((task) => task.state === 'queued')).toHaveLength(1_202);
      expect(instances.find((task) => task.taskId === 't_0002')).toMatchObject({
        state: 'queued',
        fingerprint: 'fp',
        nextTryAt: null,
        updatedAt: at(1),
      });
      expect(instances.find((task) => task.taskId === 't_0001')).toMatchObject({ state: 'running' });
      // Other runs are untouched; a second transition from the same state changes nothing.
      expect((await store.listTaskInstances('run-2')).every((task) => task.state === 'scheduled')).toBe(true);
      expect(await store.transitionTasks('run-1', ['t_0002'], ['scheduled'], 'queued')).toEqual([]);
      expect(await store.transitionTasks('run-1', [], ['queued'], 'running')).toEqual([]);
      expect(await store.transitionTasks('run-1', ['t_0002'], [], 'running')).toEqual([]);
      expect(
        await store.transitionTasks('run-1', ['t_0002', 't_0003'], ['queued'], 'failed', { maxTries: 4 }),
      ).toEqual(['t_0002', 't_0003']);
      expect(await store.getTaskInstance('run-1', 't_0003')).toMatchObject({ state: 'failed', maxTries: 4 });
    });

    it('reschedules tasks and queues their finished run again in one step, each task only from its state', async () => {
      const { store } = await freshStore();
      await store.createRun(newRun({ id: 'run-1' }));
      await store.transitionRun('run-1', ['queued'], 'running');
      await store.transitionTask('run-1', 'extract', ['scheduled'], 'failed');
      await store.transitionTask('run-1', 'load', ['scheduled'], 'upstream_failed');
      await store.transitionRun('run-1', ['running'], 'failed');
      const changed = await store.rescheduleTasks('run-1', [
        { taskId: 'load', from: 'upstream_failed', maxTries: 2 },
        { taskId: 'extract', from: 'failed', maxTries: 3 },
      ]);
      expect(changed).toEqual(['extract', 'load']);
      expect(await store.getTaskInstance('run-1', 'extract')).toMatchObject({
        state: 'scheduled',
        maxTries: 3,
      });
      expect(await store.getRun('run-1')).toMatchObject({ state: 'queued' });
      // Nothing in the state given: nothing changes, and the run is left as it is.
      await store.transitionRun('run-1', ['queued'], 'success');
      expect(
        await store.rescheduleTasks('run-1', [{ taskId: 'extract', from: 'failed', maxTries: 4 }]),
      ).toEqual([]);
      expect(await store.getRun('run-1')).toMatchObject({ state: 'success' });
    });

    it('claims the longest-queued tasks first, counts tries, and ends attempts once', async () => {
      let now = T0;
      const { store } = await freshStore({ clock: () => new Date(now) });
      await store.createRun(newRun({ id: 'run-1' }));
      await store.createRun(newRun({ id: 'run-2', logicalDate: hours(6) }));
      now += 1000;
      await store.transitionTask('run-2', 'load', ['scheduled'], 'queued');
      now += 1000;
      await store.transitionTask('run-1', 'extract', ['scheduled'], 'queued');
      now += 1000;
      await store.transitionTask('run-1', 'load', ['scheduled'], 'queued');

      const first = await store.claimTasks('worker-a', 2, at(10));
      expect(first.map((attempt) => `${attempt.runId}/${attempt.taskId}`).sort()).toEqual([
        'run-1/extract',
        'run-2/load',
      ]);
      for (const attempt of first) {
        expect(attempt).toMatchObject({
          attempt: 1,
          state: 'running',
          worker: 'worker-a',
          startedAt: at(10),
          heartbeatAt: at(10),
          finishedAt: null,
        });
      }
      expect(await store.getTaskInstance('run-1', 'extract')).toMatchObject({
        state: 'running',
        tryNumber: 1,
      });
      expect(await store.claimTasks('worker-b', 0, at(11))).toEqual([]);
      expect((await store.claimTasks('worker-b', 5, at(11))).map((attempt) => attempt.taskId)).toEqual([
        'load',
      ]);
      expect(await store.claimTasks('worker-b', 5, at(12))).toEqual([]);

      // The first try fails; the retry is attempt 2.
      const metrics = {
        durationMs: 1500,
        rowsIn: 10,
        rowsOut: 9,
        bytesRead: 2048,
        cpuMs: 900,
        peakRssBytes: 1 << 26,
      };
      expect(
        await store.finishAttempt('run-1', 'extract', 1, {
          state: 'failed',
          reason: 'boom',
          metrics,
          finishedAt: at(20),
        }),
      ).toBe(true);
      expect(await store.finishAttempt('run-1', 'extract', 1, { state: 'success', finishedAt: at(21) })).toBe(
        false,
      );
      await store.transitionTask('run-1', 'extract', ['running'], 'up_for_retry', { nextTryAt: at(320) });
      await store.transitionTask('run-1', 'extract', ['up_for_retry'], 'queued');
      const retry = await store.claimTasks('worker-b', 5, at(330));
      expect(retry.map((attempt) => [attempt.taskId, attempt.attempt, attempt.worker])).toEqual([
        ['extract', 2, 'worker-b'],
      ]);
      expect(
        await store.finishAttempt('run-1', 'extract', 2, { state: 'success', finishedAt: at(340) }),
      ).toBe(true);
      const attempts = await store.listAttempts('run-1', 'extract');
      expect(attempts.map((attempt) => [attempt.attempt, attempt.state, attempt.reason])).toEqual([
        [1, 'failed', 'boom'],
        [2, 'success', null],
      ]);
      expect(attempts[0]?.metrics).toEqual(metrics);
      expect(attempts[0]?.finishedAt).toBe(at(20));
      expect(
        (await store.listAttempts('run-1')).map((attempt) => `${attempt.taskId}#${attempt.attempt}`),
      ).toEqual(['extract#1', 'extract#2', 'load#1']);
    });

    it('never hands the same task to two processes claiming concurrently', async () => {
      const { store, url } = await freshStore();
      const tasks = Array.from({ length: 20 }, (_, index) => ({
        taskId: `t${String(index).padStart(2, '0')}`,
        maxTries: 1,
      }));
      await store.createRun(newRun({ id: 'run-1', tasks }));
      await queueAll(store, 'run-1');
      const [one = [], two = []] = await race<string[]>(url, 'claim', [
        // A pause between claims keeps both processes claiming until the queue is empty.
        { worker: 'p1', limit: 1, pauseMs: 10 },
        { worker: 'p2', limit: 1, pauseMs: 10 },
      ]);
      console.info(`${name}: claims split ${one.length}/${two.length} between the two processes`);
      expect(one.length).toBeGreaterThan(0);
      expect(two.length).toBeGreaterThan(0);
      const all = [...one, ...two];
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual(tasks.map((task) => `run-1/${task.taskId}#1`));
      const instances = await store.listTaskInstances('run-1');
      expect(instances.every((task) => task.state === 'running' && task.tryNumber === 1)).toBe(true);
      // One attempt row per task, recorded for the process that was handed the task.
      const attempts = await store.listAttempts('run-1');
      expect(attempts).toHaveLength(20);
      for (const attempt of attempts) {
        const key = `${attempt.runId}/${attempt.taskId}#${attempt.attempt}`;
        expect(attempt.worker).toBe(one.includes(key) ? 'p1' : 'p2');
      }
    });

    // Registered only where it applies, so that a skip always means a missing service.
    if (target.concurrentInProcess)
      it('never hands the same task to two stores in one process claiming concurrently', async () => {
        const { store, url } = await freshStore();
        const other = await another(url);
        const tasks = Array.from({ length: 20 }, (_, index) => ({ taskId: `t${index}`, maxTries: 1 }));
        await store.createRun(newRun({ id: 'run-1', tasks }));
        await queueAll(store, 'run-1');
        const claimLoop = async (claimer: MetadataStore, worker: string): Promise<string[]> => {
          const claimed: string[] = [];
          for (;;) {
            const batch = await claimer.claimTasks(worker, 2, new Date().toISOString());
            if (batch.length === 0) return claimed;
            claimed.push(...batch.map((attempt) => attempt.taskId));
          }
        };
        const results = await Promise.all([
          claimLoop(store, 'a1'),
          claimLoop(store, 'a2'),
          claimLoop(other, 'b1'),
          claimLoop(other, 'b2'),
        ]);
        const all = results.flat();
        expect(new Set(all).size).toBe(all.length);
        expect(all).toHaveLength(20);
      });

    it('finds running attempts whose heartbeat is older than the cutoff', async () => {
      const { store } = await freshStore();
      await store.createRun(newRun({ id: 'run-1' }));
      await queueAll(store, 'run-1');
      expect(await store.claimTasks('worker-a', 2, at(0))).toHaveLength(2);
      expect(await store.heartbeat('run-1', 'load', 1, at(60))).toBe('running');
      expect(await store.staleAttempts(at(0))).toEqual([]);
      const stale = await store.staleAttempts(at(30));
      expect(stale.map((attempt) => [attempt.taskId, attempt.attempt, attempt.heartbeatAt])).toEqual([
        ['extract', 1, at(0)],
      ]);
      expect((await store.staleAttempts(at(61))).map((attempt) => attempt.taskId)).toEqual([
        'extract',
        'load',
      ]);
      // Once failed as stale, the attempt's late heartbeat and result are refused.
      expect(
        await store.finishAttempt('run-1', 'extract', 1, {
          state: 'failed',
          reason: 'no heartbeat',
          finishedAt: at(90),
        }),
      ).toBe(true);
      expect(await store.heartbeat('run-1', 'extract', 1, at(95))).toBe('ended');
      expect(await store.finishAttempt('run-1', 'extract', 1, { state: 'success', finishedAt: at(96) })).toBe(
        false,
      );
      expect((await store.staleAttempts(at(1000))).map((attempt) => attempt.taskId)).toEqual(['load']);
      expect(await store.heartbeat('run-1', 'load', 7, at(95))).toBe('ended');
    });

    it("ends an attempt and moves its task on together, or neither when the attempt's end was recorded", async () => {
      const { store } = await freshStore();
      await store.createRun(newRun({ id: 'run-1' }));
      await queueAll(store, 'run-1');
      await store.claimTasks('worker-a', 2, at(0));
      expect(
        await store.finishAttempt('run-1', 'extract', 1, {
          state: 'success',
          finishedAt: at(10),
          task: { state: 'success', fingerprint: 'fp-1', nextTryAt: null },
        }),
      ).toBe(true);
      expect(await store.getTaskInstance('run-1', 'extract')).toMatchObject({
        state: 'success',
        fingerprint: 'fp-1',
      });
      expect(
        await store.finishAttempt('run-1', 'load', 1, {
          state: 'failed',
          reason: 'no heartbeat',
          finishedAt: at(20),
          task: { state: 'up_for_retry', nextTryAt: at(80) },
        }),
      ).toBe(true);
      expect(await store.getTaskInstance('run-1', 'load')).toMatchObject({
        state: 'up_for_retry',
        nextTryAt: at(80),
      });
      // The late end of a try already failed as stale changes neither the attempt nor the task.
      expect(
        await store.finishAttempt('run-1', 'load', 1, {
          state: 'success',
          finishedAt: at(30),
          task: { state: 'success', nextTryAt: null },
        }),
      ).toBe(false);
      expect(await store.getTaskInstance('run-1', 'load')).toMatchObject({ state: 'up_for_retry' });
      expect((await store.listAttempts('run-1', 'load')).map((attempt) => attempt.state)).toEqual(['failed']);
    });

    it('appends log lines and reads them after a given line', async () => {
      const { store } = await freshStore();
      await store.createRun(newRun({ id: 'run-1' }));
      expect(await store.readLog('run-1', 'extract', 1)).toEqual({ lines: [], nextLine: 0 });
      await store.appendLog('run-1', 'extract', 1, ['one', 'two', 'three']);
      await store.appendLog('run-1', 'extract', 1, []);
      await store.appendLog('run-1', 'extract', 1, ['four', 'ünïcödé ✓ and \t tabs', '']);
      await store.appendLog('run-1', 'extract', 2, ['retry']);
      expect(await store.readLog('run-1', 'extract', 1)).toEqual({
        lines: ['one', 'two', 'three', 'four', 'ünïcödé ✓ and \t tabs', ''],
        nextLine: 6,
      });
      expect(await store.readLog('run-1', 'extract', 1, 3)).toEqual({
        lines: ['four', 'ünïcödé ✓ and \t tabs', ''],
        nextLine: 6,
      });
      expect(await store.readLog('run-1', 'extract', 1, 1, 2)).toEqual({
        lines: ['two', 'three'],
        nextLine: 3,
      });
      expect(await store.readLog('run-1', 'extract', 1, 6)).toEqual({ lines: [], nextLine: 6 });
      expect(await store.readLog('run-1', 'extract', 2)).toEqual({ lines: ['retry'], nextLine: 1 });
      expect(await store.readLog('run-1', 'load', 1)).toEqual({ lines: [], nextLine: 0 });

      // Concurrent appends to one attempt's log interleave whole batches, never losing or renumbering lines.
      await Promise.all(
        Array.from({ length: 10 }, (_, batch) =>
          store.appendLog('run-1', 'load', 1, [`batch ${batch} line 1`, `batch ${batch} line 2`]),
        ),
      );
      const { lines, nextLine } = await store.readLog('run-1', 'load', 1);
      expect(nextLine).toBe(20);
      expect([...lines].sort()).toEqual(
        Array.from({ length: 10 }, (_, batch) => [`batch ${batch} line 1`, `batch ${batch} line 2`])
          .flat()
          .sort(),
      );
      for (let index = 0; index < lines.length; index += 2) {
        expect(lines[index]?.replace('line 1', 'line 2')).toBe(lines[index + 1]);
      }
    });

    it("returns the fingerprint of the task's latest successful try in the pipeline", async () => {
      let now = T0;
      const { store } = await freshStore({ clock: () => new Date(now) });
      expect(await store.lastSuccessFingerprint('sales', 'extract')).toBeUndefined();
      await store.createRun(newRun({ id: 'run-1' }));
      await store.createRun(newRun({ id: 'run-2', logicalDate: hours(6) }));
      await store.createRun(newRun({ id: 'run-3', logicalDate: hours(12) }));
      await store.createRun(newRun({ id: 'audit-1', pipeline: 'audit' }));
      now += 1000;
      await store.transitionTask('run-1', 'extract', ['scheduled'], 'success', { fingerprint: 'fp-1' });
      expect(await store.lastSuccessFingerprint('sales', 'extract')).toBe('fp-1');
      now += 1000;
      await store.transitionTask('run-2', 'extract', ['scheduled'], 'success', { fingerprint: 'fp-2' });
      now += 1000;
      // Failures, other tasks and other pipelines do not count.
      await store.transitionTask('run-3', 'extract', ['scheduled'], 'failed', { fingerprint: 'fp-3' });
      await store.transitionTask('run-3', 'load', ['scheduled'], 'success', { fingerprint: 'fp-load' });
      await store.transitionTask('audit-1', 'extract', ['scheduled'], 'success', { fingerprint: 'fp-audit' });
      expect(await store.lastSuccessFingerprint('sales', 'extract')).toBe('fp-2');
      expect(await store.lastSuccessFingerprint('sales', 'load')).toBe('fp-load');
      expect(await store.lastSuccessFingerprint('audit', 'extract')).toBe('fp-audit');
      expect(await store.lastSuccessFingerprint('audit', 'load')).toBeUndefined();
    });

    it('lists runs newest logical date first and finds the latest logical date per trigger', async () => {
      const { store } = await freshStore();
      await store.createRun(newRun({ id: 'r0', logicalDate: hours(0) }));
      await store.createRun(newRun({ id: 'r12', logicalDate: hours(12) }));
      await store.createRun(newRun({ id: 'r6', logicalDate: hours(6), trigger: 'backfill' }));
      await store.createRun(newRun({ id: 'm18', logicalDate: hours(18), trigger: 'manual' }));
      await store.createRun(newRun({ id: 'other', pipeline: 'audit', logicalDate: hours(24) }));
      await store.transitionRun('r12', ['queued'], 'running');
      await store.transitionRun('r0', ['queued'], 'failed');

      expect((await store.listRuns({ pipeline: 'sales' })).map((run) => run.id)).toEqual([
        'm18',
        'r12',
        'r6',
        'r0',
      ]);
      expect((await store.listRuns()).map((run) => run.id)).toEqual(['other', 'm18', 'r12', 'r6', 'r0']);
      expect((await store.listRuns({ pipeline: 'sales', limit: 2 })).map((run) => run.id)).toEqual([
        'm18',
        'r12',
      ]);
      expect((await store.listRuns({ states: ['running', 'failed'] })).map((run) => run.id)).toEqual([
        'r12',
        'r0',
      ]);
      expect(await store.listRuns({ states: [] })).toEqual([]);

      expect(await store.latestLogicalDate('sales')).toBe(hours(18));
      expect(await store.latestLogicalDate('sales', ['schedule'])).toBe(hours(12));
      expect(await store.latestLogicalDate('sales', ['schedule', 'backfill'])).toBe(hours(12));
      expect(await store.latestLogicalDate('sales', ['backfill'])).toBe(hours(6));
      expect(await store.latestLogicalDate('sales', [])).toBeUndefined();
      expect(await store.latestLogicalDate('nope')).toBeUndefined();
    });

    it('sends the first report of an alert cause, groups repeats within the window, then sends again', async () => {
      const { store } = await freshStore();
      const report = (cause: string, seconds: number, occurrence?: string | null) =>
        store.recordAlert({
          cause,
          occurrence,
          at: at(seconds),
          groupWindowMs: 3600_000,
          kind: 'run_failed',
          pipeline: cause.startsWith('run_failed:sales') ? 'sales' : 'audit',
          severity: 'error',
          title: `${cause} at ${seconds}`,
          text: 'task failed',
          runId: occurrence,
        });
      const cause = 'run_failed:sales:load';
      expect(await report(cause, 0, 'run-1')).toEqual({
        send: true,
        repeat: false,
        occurrences: 1,
        grouped: 1,
        firstAt: at(0),
        previousSentAt: null,
      });
      // Another run within the hour is counted; the same run reported again (another process, another pass) is not.
      expect(await report(cause, 600, 'run-2')).toMatchObject({ send: false, repeat: false, occurrences: 2 });
      expect(await report(cause, 700, 'run-2')).toMatchObject({ send: false, repeat: true, occurrences: 2 });
      expect(await report(cause, 1800, 'run-3')).toMatchObject({ send: false, occurrences: 3, grouped: 2 });
      // An hour after the last send: sent again, standing for the three occurrences since.
      expect(await report(cause, 3600, 'run-4')).toEqual({
        send: true,
        repeat: false,
        occurrences: 4,
        grouped: 3,
        firstAt: at(0),
        previousSentAt: at(0),
      });
      expect(await report(cause, 3700, 'run-1')).toMatchObject({ send: false, repeat: true, occurrences: 4 });
      expect(await report(cause, 3700, 'run-5')).toMatchObject({ send: false, grouped: 1 });
      // Other causes are their own; without an occurrence key every report counts.
      expect(await report('run_failed:audit:extract', 700)).toMatchObject({ send: true, occurrences: 1 });
      expect(await report('run_failed:audit:extract', 800)).toMatchObject({ send: false, occurrences: 2 });
      expect(await report('run_failed:audit:extract', 900, null)).toMatchObject({
        send: false,
        occurrences: 3,
      });

      await store.recordAlertDelivery(cause, at(3601), 'webhook ops: HTTP 500');
      const alerts = await store.listAlerts();
      expect(alerts.map((alert) => [alert.cause, alert.occurrences, alert.sentOccurrences])).toEqual([
        [cause, 5, 4],
        ['run_failed:audit:extract', 3, 1],
      ]);
      expect(alerts[0]).toEqual({
        cause,
        kind: 'run_failed',
        pipeline: 'sales',
        severity: 'error',
        title: `${cause} at 3700`,
        text: 'task failed',
        firstAt: at(0),
        lastAt: at(3700),
        occurrences: 5,
        sentOccurrences: 4,
        lastSentAt: at(3600),
        lastRunId: 'run-5',
        lastError: 'webhook ops: HTTP 500',
        lastErrorAt: at(3601),
      });
      await store.recordAlertDelivery(cause, at(3602), null);
      expect((await store.listAlerts({ pipeline: 'sales' }))[0]).toMatchObject({
        lastError: null,
        lastErrorAt: null,
      });
      expect((await store.listAlerts({ limit: 1 })).map((alert) => alert.cause)).toEqual([cause]);
      expect(await store.listAlerts({ pipeline: 'nope' })).toEqual([]);
    });

    it('tells exactly one of two concurrent reports of one alert cause to send', async () => {
      const { store, url } = await freshStore();
      // SQLite serialises one store's transactions; PostgreSQL's pools really run them at once.
      const other = target.concurrentInProcess ? await another(url) : store;
      const decisions = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          (index % 2 === 0 ? store : other).recordAlert({
            cause: 'sla_missed:sales',
            occurrence: `run-${index % 5}`,
            at: at(index),
            groupWindowMs: 3600_000,
            kind: 'sla_missed',
            pipeline: 'sales',
            severity: 'warning',
            title: 'late',
            text: 'late',
          }),
        ),
      );
      expect(decisions.filter((decision) => decision.send)).toHaveLength(1);
      expect(decisions.filter((decision) => decision.repeat)).toHaveLength(5);
      expect(await store.listAlerts()).toMatchObject([{ cause: 'sla_missed:sales', occurrences: 5 }]);
    });

    it('tells exactly one of two processes reporting the same alert causes at once to send each', async () => {
      const url = await target.freshUrl();
      const causes = Array.from({ length: 20 }, (_, index) => `run_failed:sales:t${index}`);
      const [one = [], two = []] = await race<{ cause: string; send: boolean }[]>(url, 'alert', [
        { worker: 'p1', causes, at: at(0), pauseMs: 1 },
        { worker: 'p2', causes, at: at(0), pauseMs: 1 },
      ]);
      expect(one.map((entry) => entry.cause)).toEqual(causes);
      expect(two.map((entry) => entry.cause)).toEqual(causes);
      for (const [index, cause] of causes.entries()) {
        expect(Number(one[index]?.send) + Number(two[index]?.send), cause).toBe(1);
      }
      const store = await another(url);
      const alerts = await store.listAlerts();
      expect(alerts).toHaveLength(causes.length);
      for (const alert of alerts) expect(alert).toMatchObject({ occurrences: 2, sentOccurrences: 1 });
    });

    it('adds, replaces, lists and deletes named connections, keeping the sealed secret as given', async () => {
      const { store, url } = await freshStore();
      const box = new SecretBox(randomBytes(32));
      const plain = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
      const config = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true };
      await store.putConnection({ name: 'minio', kind: 's3', config, secret: box.seal(plain) });
      await store.putConnection({
        name: 'aws-prod',
        kind: 's3',
        config: { region: 'eu-west-3' },
        secret: null,
      });
      const stored = await store.getConnection('minio');
      expect(stored).toMatchObject({ name: 'minio', kind: 's3', config });
      expect(stored?.secret).not.toContain(plain);
      expect(box.open(stored?.secret ?? '')).toBe(plain);
      expect((await store.listConnections()).map((connection) => connection.name)).toEqual([
        'aws-prod',
        'minio',
      ]);

      await store.putConnection({ name: 'minio', kind: 's3', config: { region: 'us-west-2' }, secret: null });
      const replaced = await store.getConnection('minio');
      expect(replaced).toMatchObject({
        config: { region: 'us-west-2' },
        secret: null,
        createdAt: stored?.createdAt,
      });
      expect(await another(url).then((other) => other.getConnection('aws-prod'))).toMatchObject({
        config: { region: 'eu-west-3' },
      });

      expect(await store.deleteConnection('minio')).toBe(true);
      expect(await store.deleteConnection('minio')).toBe(false);
      expect(await store.getConnection('minio')).toBeUndefined();
      expect((await store.listConnections()).map((connection) => connection.name)).toEqual(['aws-prod']);
    });

    it('rejects timestamps it cannot read', async () => {
      const { store } = await freshStore();
      await expect(
        store.createRun(newRun({ id: 'bad', logicalDate: 'yesterday', dataIntervalEnd: hours(6) })),
      ).rejects.toThrow(/logicalDate is not a timestamp/);
      await expect(store.claimTasks('w', 1, 'soon')).rejects.toThrow(/now is not a timestamp/);
    });

    describeRunControlConformance(async () => (await freshStore()).store);
    describeQueueConformance(freshStore, another);
    describeAccountsConformance(async () => (await freshStore()).store);
    describeSnapshotConformance(freshStore, another);
  });
}
