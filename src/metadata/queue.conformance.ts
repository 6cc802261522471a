/**
 * The queue part of the MetadataStore conformance suite: task queues, when tasks were queued, what each process
 * serves, the tries of processes known to be gone, and wake-ups. Called by describeMetadataStoreConformance, so
 * SQLite and PostgreSQL both pass it.
 */
import { afterEach, expect, it } from 'vitest';
import type { MetadataStore, NewRun, WakeTopic } from './metadata-store.js';
import { at, run as manualRun } from './run-control.conformance.js';

const T0 = Date.parse(at(0));
const run = (id: string, tasks: NewRun['tasks']): NewRun => manualRun(id, { tasks });

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function describeQueueConformance(
  freshStore: (options?: { clock?: () => Date }) => Promise<{ store: MetadataStore; url: string }>,
  another: (url: string) => Promise<MetadataStore>,
): void {
  const subscriptions: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
  });

  it('gives each task its queue, and claims only the queues asked for', async () => {
    const { store } = await freshStore();
    await store.createRun(
      run('r1', [
        { taskId: 'extract', maxTries: 1 },
        { taskId: 'train', maxTries: 1, queue: 'gpu' },
        { taskId: 'load', maxTries: 1, queue: 'default' },
      ]),
    );
    expect((await store.listTaskInstances('r1')).map((task) => [task.taskId, task.queue])).toEqual([
      ['extract', 'default'],
      ['load', 'default'],
      ['train', 'gpu'],
    ]);
    await store.transitionTasks('r1', ['extract', 'train', 'load'], ['scheduled'], 'queued');
    expect(await store.claimTasks('w-gpu', 5, at(1), { queues: ['other'] })).toEqual([]);
    expect((await store.claimTasks('w-gpu', 5, at(1), { queues: ['gpu'] })).map((a) => a.taskId)).toEqual([
      'train',
    ]);
    const rest = await store.claimTasks('w-any', 5, at(2), { runIds: ['r1'] });
    expect(rest.map((attempt) => attempt.taskId).sort()).toEqual(['extract', 'load']);
  });

  it('records when a task was queued on each try it claims', async () => {
    let now = T0;
    const { store } = await freshStore({ clock: () => new Date(now) });
    await store.createRun(run('r1', [{ taskId: 'extract', maxTries: 2 }]));
    now = T0 + 5_000;
    await store.transitionTask('r1', 'extract', ['scheduled'], 'queued');
    const [first] = await store.claimTasks('w', 1, at(7));
    expect(first).toMatchObject({ queuedAt: at(5), startedAt: at(7) });
    // Handed back by a draining worker: queued again at once, one more try allowed.
    now = T0 + 9_000;
    expect(
      await store.finishAttempt('r1', 'extract', 1, {
        state: 'failed',
        reason: 'handed back',
        finishedAt: at(9),
        task: { state: 'queued', nextTryAt: null, maxTries: 3 },
      }),
    ).toBe(true);
    expect(await store.getTaskInstance('r1', 'extract')).toMatchObject({ state: 'queued', maxTries: 3 });
    const [second] = await store.claimTasks('w2', 1, at(10));
    expect(second).toMatchObject({ attempt: 2, queuedAt: at(9), startedAt: at(10) });
  });

  it('stores the lines a try numbers itself with one insert each, skipping lines a retried write stored', async () => {
    const { store } = await freshStore();
    await store.createRun(run('r1', [{ taskId: 'a', maxTries: 1 }]));
    await store.appendLog('r1', 'a', 1, ['one', 'two'], 1);
    await store.appendLog('r1', 'a', 1, ['one', 'two'], 1);
    await store.appendLog('r1', 'a', 1, ['three'], 3);
    expect(await store.readLog('r1', 'a', 1)).toEqual({ lines: ['one', 'two', 'three'], nextLine: 3 });
  });

  it('records what each process serves, and finds the running tries of processes known to be gone', async () => {
    const { store } = await freshStore();
    const base = { host: 'h', pid: 1, startedAt: at(0), pipelines: [] };
    await store.recordProcess({ ...base, id: 'sched', kind: 'scheduler' }, at(0));
    await store.recordProcess(
      { ...base, id: 'w1', kind: 'worker', queues: ['gpu', 'default'], slots: 8 },
      at(0),
    );
    const byId = Object.fromEntries((await store.listProcesses()).map((p) => [p.id, p]));
    expect(byId.sched).toMatchObject({ queues: null, slots: null });
    expect(byId.w1).toMatchObject({ queues: ['gpu', 'default'], slots: 8 });

    await store.createRun(
      run('r1', [
        { taskId: 'a', maxTries: 1 },
        { taskId: 'b', maxTries: 1 },
      ]),
    );
    await store.transitionTasks('r1', ['a', 'b'], ['scheduled'], 'queued');
    await store.claimTasks('w1', 1, at(100));
    await store.claimTasks('w2', 1, at(100));
    expect(await store.staleAttempts(at(50))).toEqual([]);
    expect((await store.staleAttempts(at(50), ['w2'])).map((attempt) => attempt.worker)).toEqual(['w2']);
    expect((await store.runningAttempts()).map((attempt) => attempt.worker).sort()).toEqual(['w1', 'w2']);
  });

  it('wakes its subscribers when runs are made or stopped, tries end, and tasks are queued', async () => {
    const { store, url } = await freshStore();
    const heard: WakeTopic[] = [];
    subscriptions.push(store.subscribe((topic) => heard.push(topic)));
    // On PostgreSQL another connection (another process) hears it too; SQLite wakes within its process only.
    const elsewhere: WakeTopic[] = [];
    if (store.dialect === 'postgres') {
      subscriptions.push((await another(url)).subscribe((topic) => elsewhere.push(topic)));
      // LISTEN is issued once the connection is up.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await store.createRun(run('r1', [{ taskId: 'a', maxTries: 1 }]));
    await until(() => heard.includes('runs'), 'runs after createRun');
    heard.splice(0);
    await store.transitionTasks('r1', ['a'], ['scheduled'], 'queued');
    await until(() => heard.includes('tasks'), 'tasks after queueing');
    heard.splice(0);
    await store.claimTasks('w', 1, at(1));
    await store.finishAttempt('r1', 'a', 1, {
      state: 'success',
      finishedAt: at(2),
      task: { state: 'success' },
    });
    await until(() => heard.includes('runs'), 'runs after a try ended');
    if (store.dialect === 'postgres') {
      await until(() => elsewhere.includes('tasks') && elsewhere.includes('runs'), 'the other connection');
    }
  });
}
