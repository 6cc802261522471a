import { describe, expect, it } from 'vitest';
import type { RunDetail, TaskView } from '../../../app/runs.js';
import type { AttemptRecord, RunRecord } from '../../../metadata/metadata-store.js';
import { buildGantt } from './gantt-model.js';

const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function attempt(
  taskId: string,
  number: number,
  state: AttemptRecord['state'],
  from: number,
  to?: number,
  reason?: string,
  queued?: number,
): AttemptRecord {
  return {
    runId: 'run_1',
    taskId,
    attempt: number,
    state,
    worker: 'w',
    startedAt: at(from),
    heartbeatAt: at(from),
    finishedAt: to === undefined ? null : at(to),
    reason: reason ?? null,
    metrics: null,
    output: null,
    queuedAt: queued === undefined ? null : at(queued),
  };
}

function task(
  taskId: string,
  state: TaskView['state'],
  dependsOn: string[],
  attempts: AttemptRecord[],
): TaskView {
  return {
    runId: 'run_1',
    taskId,
    state,
    tryNumber: attempts.length,
    maxTries: 3,
    nextTryAt: null,
    fingerprint: null,
    queue: 'default',
    waitingForQueue: null,
    updatedAt: at(0),
    attempts,
    latestAttempt: attempts.at(-1) ?? null,
    reason: '',
    dependsOn,
  };
}

function detail(state: RunRecord['state'], tasks: TaskView[]): RunDetail {
  return {
    run: { id: 'run_1', state, createdAt: at(-50), startedAt: at(0) } as RunRecord,
    tasks,
  };
}

describe('the Gantt of a run', () => {
  const tasks = [
    task('ingest', 'success', [], [attempt('ingest', 1, 'success', 100, 300)]),
    task(
      'bronze',
      'success',
      ['ingest'],
      [attempt('bronze', 1, 'failed', 400, 500, 'boom'), attempt('bronze', 2, 'success', 1500, 1700)],
    ),
    task('silver', 'running', ['bronze'], [attempt('silver', 1, 'running', 1800)]),
    task('gold', 'queued', ['ingest'], []),
    task('quality', 'skipped', [], [attempt('quality', 1, 'success', 20, 30, 'skipped: inputs unchanged')]),
  ];

  it('draws each try from its start to its end, a running one to now, after the wait since it could start', () => {
    const gantt = buildGantt(detail('running', tasks), T0 + 2500);
    expect(gantt.rows).toEqual(['ingest', 'bronze', 'silver', 'gold', 'quality']);
    expect(gantt.origin).toBe(T0);
    expect(
      gantt.bars.map((bar) => [
        bar.task,
        bar.attempt?.attempt ?? null,
        bar.outcome,
        bar.readyAt - T0,
        bar.start - T0,
        bar.end - T0,
      ]),
    ).toEqual([
      // Ready when the run started.
      ['ingest', 1, 'success', 0, 100, 300],
      // Ready when ingest ended; the retry when the first try failed.
      ['bronze', 1, 'up_for_retry', 300, 400, 500],
      ['bronze', 2, 'success', 500, 1500, 1700],
      ['silver', 1, 'running', 1700, 1800, 2500],
      // Queued since ingest ended, and still waiting now.
      ['gold', null, 'waiting', 300, 2500, 2500],
      ['quality', 1, 'skipped', 0, 20, 30],
    ]);
  });

  it('shows no one waiting in a finished run, and ends a try that failed last as failed or cancelled', () => {
    const failed = [
      task('ingest', 'failed', [], [attempt('ingest', 1, 'failed', 100, 300, 'bad input')]),
      task('gold', 'queued', ['ingest'], []),
      task('silver', 'cancelled', [], [attempt('silver', 1, 'failed', 100, 200, 'cancelled by ann')]),
    ];
    const gantt = buildGantt(detail('failed', failed), T0 + 2500);
    expect(gantt.bars.map((bar) => [bar.task, bar.outcome])).toEqual([
      ['ingest', 'failed'],
      ['silver', 'cancelled'],
    ]);
  });

  it('does not count an upstream end that came after the try started as a wait', () => {
    const cleared = [
      task(
        'ingest',
        'success',
        [],
        [attempt('ingest', 1, 'success', 100, 300), attempt('ingest', 2, 'success', 5000, 5100)],
      ),
      task('bronze', 'success', ['ingest'], [attempt('bronze', 1, 'success', 400, 450)]),
    ];
    const bronze = buildGantt(detail('success', cleared), T0 + 9000).bars.find(
      (bar) => bar.task === 'bronze',
    );
    expect(bronze?.readyAt).toBe(T0 + 300);
  });

  it('draws the last part of a wait, from when the task was queued, as the wait for a worker', () => {
    const queued = [
      task('ingest', 'success', [], [attempt('ingest', 1, 'success', 100, 300, undefined, 40)]),
      task(
        'bronze',
        'running',
        ['ingest'],
        [
          // Queued before ingest ended by another machine's clock: no sooner than it could start.
          attempt('bronze', 1, 'failed', 400, 500, 'boom', 250),
          attempt('bronze', 2, 'running', 1500, undefined, undefined, 1200),
        ],
      ),
      { ...task('gold', 'queued', ['ingest'], []), updatedAt: at(600), waitingForQueue: 'gpu' },
      task('silver', 'up_for_retry', [], [attempt('silver', 1, 'failed', 100, 200, 'boom', 90)]),
      // Tries recorded before tries knew when they were queued.
      task('old', 'success', [], [attempt('old', 1, 'success', 100, 150)]),
    ];
    const gantt = buildGantt(detail('running', queued), T0 + 2500);
    expect(
      gantt.bars.map((bar) => [
        bar.task,
        bar.attempt?.attempt ?? null,
        bar.readyAt - T0,
        bar.queuedAt === null ? null : bar.queuedAt - T0,
        bar.start - T0,
        bar.waitingForQueue,
      ]),
    ).toEqual([
      ['ingest', 1, 0, 40, 100, null],
      ['bronze', 1, 300, 300, 400, null],
      ['bronze', 2, 500, 1200, 1500, null],
      // Still queued, since it was last changed, in a queue nobody serves.
      ['gold', null, 300, 600, 2500, 'gpu'],
      ['silver', 1, 0, 90, 100, null],
      // Waiting for its retry's delay: not queued yet.
      ['silver', null, 200, null, 2500, null],
      ['old', 1, 0, null, 100, null],
    ]);
  });
});
