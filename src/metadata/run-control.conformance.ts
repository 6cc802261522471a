/**
 * The run-control part of the MetadataStore conformance suite: where runs run, leases, stops and process
 * heartbeats. Called by describeMetadataStoreConformance, so SQLite and PostgreSQL both pass it.
 */
import { afterEach, expect, it } from 'vitest';
import type { MetadataStore, NewRun } from './metadata-store.js';

const T0 = Date.parse('2024-03-01T00:00:00.000Z');
export const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

/** A manual run of `sales` at T0 with two tasks, recorded locations and definition (overridable). */
export function run(id: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    id,
    pipeline: 'sales',
    logicalDate: at(0),
    dataIntervalStart: at(0),
    dataIntervalEnd: at(0),
    trigger: 'manual',
    params: {},
    tasks: [
      { taskId: 'extract', maxTries: 2 },
      { taskId: 'load', maxTries: 2 },
    ],
    locations: { source: '/data/source', lake: '/data/lake' },
    definitionHash: 'def-1',
    ...overrides,
  };
}

const lease = (holder: string, ttlSeconds = 30) => ({
  key: 'sales@/data/lake',
  holder,
  ttlMs: ttlSeconds * 1000,
});

export function describeRunControlConformance(freshStore: () => Promise<MetadataStore>): void {
  const stores: MetadataStore[] = [];
  const fresh = async (): Promise<MetadataStore> => {
    const store = await freshStore();
    stores.push(store);
    return store;
  };
  afterEach(() => {
    stores.splice(0);
  });

  it('records where a run reads and writes, its retention, the definition it was planned from and its owner', async () => {
    const store = await fresh();
    await store.createRun(run('r1', { owner: 'host:1:abc' }));
    const retention = { landing: '30d', versions: '2h' };
    await store.createRun(run('r2', { locations: { source: null, lake: 's3://minio@{layer}', retention } }));
    await store.createRun({ ...run('r3'), locations: undefined, definitionHash: undefined });
    expect(await store.getRun('r1')).toMatchObject({
      locations: { source: '/data/source', lake: '/data/lake' },
      definitionHash: 'def-1',
      owner: 'host:1:abc',
      stop: null,
    });
    expect((await store.getRun('r2'))?.locations).toEqual({
      source: null,
      lake: 's3://minio@{layer}',
      retention,
    });
    expect(await store.getRun('r3')).toMatchObject({ locations: null, definitionHash: null, owner: null });
  });

  it('starts a queued run only while no other unfinished run holds its lease, and frees it when that run ends', async () => {
    const store = await fresh();
    await store.createRun(run('a'));
    await store.createRun(run('b'));
    expect(await store.startRun('a', at(0), lease('p1'))).toEqual({ started: true });
    const refused = await store.startRun('b', at(1), lease('p2'));
    expect(refused).toMatchObject({ started: false, heldBy: { runId: 'a', holder: 'p1' } });
    expect((await store.getRun('b'))?.state).toBe('queued');
    // Starting the same run twice: the second caller is told it did not start it.
    expect(await store.startRun('a', at(2), lease('p2'))).toEqual({ started: false });
    expect(await store.transitionRun('a', ['running'], 'success', { finishedAt: at(3) })).toBe(true);
    expect(await store.getLease('sales@/data/lake')).toBeUndefined();
    expect(await store.startRun('b', at(4), lease('p2'))).toEqual({ started: true });
    expect(await store.getLease('sales@/data/lake')).toMatchObject({ runId: 'b', holder: 'p2' });
  });

  it('lets a lease expire when nobody renews it, and renews it for its run only', async () => {
    const store = await fresh();
    await store.createRun(run('a'));
    await store.createRun(run('b'));
    expect(await store.startRun('a', at(0), lease('p1', 10))).toEqual({ started: true });
    expect(await store.renewLease('sales@/data/lake', 'a', 'p1', at(8), 10_000)).toBe(true);
    expect((await store.startRun('b', at(15), lease('p2', 10))).started).toBe(false);
    expect(await store.startRun('b', at(19), lease('p2', 10))).toEqual({ started: true });
    // The run that lost its lease cannot renew it while the other holds it.
    expect(await store.renewLease('sales@/data/lake', 'a', 'p1', at(20), 10_000)).toBe(false);
    // A run that finished holds nothing, even before its lease expires.
    await store.transitionRun('b', ['running'], 'failed', { finishedAt: at(21) });
    expect(await store.renewLease('sales@/data/lake', 'a', 'p1', at(22), 10_000)).toBe(true);
  });

  it('ends a queued run at once when asked to stop', async () => {
    const store = await fresh();
    await store.createRun(run('q'));
    const stopped = await store.requestStop('q', { state: 'cancelled', reason: 'cancelled by ann' }, at(5));
    expect(stopped).toMatchObject({
      state: 'cancelled',
      finishedAt: at(5),
      stop: { state: 'cancelled', reason: 'cancelled by ann', requestedAt: at(5) },
    });
    expect((await store.listTaskInstances('q')).map((task) => task.state)).toEqual([
      'cancelled',
      'cancelled',
    ]);
    // Asking again, or asking a finished run, changes nothing.
    const again = await store.requestStop('q', { state: 'failed', reason: 'other' }, at(6));
    expect(again?.stop?.reason).toBe('cancelled by ann');
    expect(await store.requestStop('nope', { state: 'failed', reason: 'x' }, at(6))).toBeUndefined();
  });

  it("tells a running run's tries to stop through their heartbeats, and claims nothing more of it", async () => {
    const store = await fresh();
    await store.createRun(run('r'));
    await store.startRun('r', at(0));
    await store.transitionTask('r', 'extract', ['scheduled'], 'queued');
    const [claimed] = await store.claimTasks('w1', 1, at(1));
    expect(claimed?.taskId).toBe('extract');
    expect(await store.heartbeat('r', 'extract', 1, at(2))).toBe('running');
    await store.transitionTask('r', 'load', ['scheduled'], 'queued');
    const asked = await store.requestStop('r', { state: 'failed', reason: 'interrupted (SIGINT)' }, at(3));
    expect(asked).toMatchObject({
      state: 'running',
      stop: { state: 'failed', reason: 'interrupted (SIGINT)' },
    });
    expect(await store.heartbeat('r', 'extract', 1, at(4))).toBe('stopping');
    expect(await store.claimTasks('w1', 5, at(5))).toEqual([]);
  });

  it('ends a run whose process is gone: cancels what waits, fails what runs, frees its lease', async () => {
    const store = await fresh();
    await store.createRun(run('r'));
    expect((await store.startRun('r', at(0), lease('p1'))).started).toBe(true);
    await store.transitionTask('r', 'extract', ['scheduled'], 'queued');
    await store.claimTasks('p1', 1, at(1));
    const end = { state: 'failed' as const, reason: 'abandoned: p1 stopped', finishedAt: at(9) };
    expect(await store.endRun('r', end)).toBe(true);
    expect(await store.getRun('r')).toMatchObject({
      state: 'failed',
      finishedAt: at(9),
      stop: { state: 'failed', reason: 'abandoned: p1 stopped' },
    });
    const tasks = await store.listTaskInstances('r');
    expect(tasks.map((task) => [task.taskId, task.state])).toEqual([
      ['extract', 'failed'],
      ['load', 'cancelled'],
    ]);
    expect(await store.listAttempts('r')).toMatchObject([
      { taskId: 'extract', state: 'failed', reason: 'abandoned: p1 stopped', finishedAt: at(9) },
    ]);
    expect(await store.getLease('sales@/data/lake')).toBeUndefined();
    expect(await store.endRun('r', end)).toBe(false);
  });

  it('queues a cleared run again without the stop of its earlier life', async () => {
    const store = await fresh();
    await store.createRun(run('r'));
    await store.startRun('r', at(0));
    await store.endRun('r', { state: 'cancelled', reason: 'cancelled by ann', finishedAt: at(1) });
    const cleared = await store.rescheduleTasks('r', [{ taskId: 'load', from: 'cancelled', maxTries: 2 }]);
    expect(cleared).toEqual(['load']);
    expect(await store.getRun('r')).toMatchObject({ state: 'queued', stop: null });
  });

  it('records processes with their heartbeats, most recently seen first, and leaves out stopped ones', async () => {
    const store = await fresh();
    const scheduler = {
      id: 'h:1:a',
      kind: 'scheduler' as const,
      host: 'h',
      pid: 1,
      startedAt: at(0),
      pipelines: [{ name: 'sales', definitionHash: 'def-1' }],
    };
    await store.recordProcess(scheduler, at(0));
    await store.recordProcess({ ...scheduler, id: 'h:2:b', kind: 'run', pid: 2, pipelines: [] }, at(5));
    await store.recordProcess(scheduler, at(10));
    expect((await store.listProcesses()).map((process) => [process.id, process.heartbeatAt])).toEqual([
      ['h:1:a', at(10)],
      ['h:2:b', at(5)],
    ]);
    expect(await store.getProcess('h:1:a')).toMatchObject({
      ...scheduler,
      heartbeatAt: at(10),
      stoppedAt: null,
    });
    await store.stopProcess('h:2:b', at(11));
    expect((await store.listProcesses()).map((process) => process.id)).toEqual(['h:1:a']);
    expect((await store.listProcesses({ includeStopped: true })).map((process) => process.id)).toEqual([
      'h:1:a',
      'h:2:b',
    ]);
  });

  it('keeps the last successful fingerprint of a task per lake', async () => {
    const store = await fresh();
    await store.createRun(run('on-a', { locations: { source: null, lake: '/lake-a' } }));
    await store.createRun(run('on-b', { locations: { source: null, lake: '/lake-b' } }));
    await store.transitionTask('on-a', 'load', ['scheduled'], 'success', { fingerprint: 'fp-a' });
    await store.transitionTask('on-b', 'load', ['scheduled'], 'success', { fingerprint: 'fp-b' });
    expect(await store.lastSuccessFingerprint('sales', 'load', '/lake-a')).toBe('fp-a');
    expect(await store.lastSuccessFingerprint('sales', 'load', '/lake-b')).toBe('fp-b');
    expect(await store.lastSuccessFingerprint('sales', 'load', '/lake-c')).toBeUndefined();
  });
}
