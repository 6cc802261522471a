import { describe, expect, it } from 'vitest';
import { nextTryAt, type RetryPolicy } from './retry-policy.js';
import { decide, type TaskView } from './run-state.js';

const now = new Date('2026-01-01T12:00:00Z');
const chain = (states: TaskView['state'][]): TaskView[] =>
  states.map((state, index) => ({ id: `t${index}`, dependsOn: index === 0 ? [] : [`t${index - 1}`], state }));

describe('decide', () => {
  it('queues the tasks whose upstream succeeded or was skipped', () => {
    expect(decide(chain(['success', 'scheduled', 'scheduled']), now)).toEqual({
      queue: ['t1'],
      upstreamFailed: [],
      cancel: [],
    });
    expect(decide(chain(['skipped', 'scheduled']), now).queue).toEqual(['t1']);
  });

  it('marks everything downstream of a failure upstream_failed and ends the run failed', () => {
    expect(decide(chain(['failed', 'scheduled', 'scheduled']), now)).toEqual({
      queue: [],
      upstreamFailed: ['t1', 't2'],
      cancel: [],
      runOutcome: 'failed',
    });
  });

  it('starts nothing in a stopped run, cancels what waits for a try, and ends it once its tries are over', () => {
    const tasks = chain(['running', 'scheduled', 'up_for_retry', 'queued']);
    expect(decide(tasks, now, 'cancelled')).toEqual({
      queue: [],
      upstreamFailed: [],
      cancel: ['t1', 't2', 't3'],
    });
    expect(decide(chain(['failed', 'cancelled', 'scheduled']), now, 'failed')).toEqual({
      queue: [],
      upstreamFailed: [],
      cancel: ['t2'],
      runOutcome: 'failed',
    });
    expect(decide(chain(['success', 'cancelled']), now, 'cancelled').runOutcome).toBe('cancelled');
  });

  it('counts a cancelled task as blocking what depends on it', () => {
    expect(decide(chain(['cancelled', 'scheduled']), now)).toMatchObject({
      upstreamFailed: ['t1'],
      runOutcome: 'failed',
    });
  });

  it('queues a retry only once its delay has passed', () => {
    const waiting = chain(['up_for_retry']).map((task) => ({
      ...task,
      nextTryAt: new Date('2026-01-01T12:05:00Z'),
    }));
    expect(decide(waiting, now).queue).toEqual([]);
    expect(decide(waiting, new Date('2026-01-01T12:05:00Z')).queue).toEqual(['t0']);
  });

  it('ends the run successful when every task succeeded or was skipped', () => {
    expect(decide(chain(['success', 'skipped']), now).runOutcome).toBe('success');
    expect(decide(chain(['success', 'running']), now).runOutcome).toBeUndefined();
  });
});

describe('nextTryAt', () => {
  const policy: RetryPolicy = {
    retries: 3,
    retryDelayMs: 60_000,
    exponentialBackoff: true,
    maxRetryDelayMs: 150_000,
  };

  it('doubles the delay after each failed try, up to the cap, and stops after the last retry', () => {
    const failedAt = new Date('2026-01-01T00:00:00Z');
    expect(nextTryAt(policy, 1, failedAt)?.toISOString()).toBe('2026-01-01T00:01:00.000Z');
    expect(nextTryAt(policy, 2, failedAt)?.toISOString()).toBe('2026-01-01T00:02:00.000Z');
    expect(nextTryAt(policy, 3, failedAt)?.toISOString()).toBe('2026-01-01T00:02:30.000Z');
    expect(nextTryAt(policy, 4, failedAt)).toBeUndefined();
  });

  it('keeps the delay fixed without backoff, as the seed (1 retry after 5 minutes)', () => {
    const seed: RetryPolicy = {
      retries: 1,
      retryDelayMs: 300_000,
      exponentialBackoff: false,
      maxRetryDelayMs: 300_000,
    };
    expect(nextTryAt(seed, 1, new Date(0))?.getTime()).toBe(300_000);
    expect(nextTryAt(seed, 2, new Date(0))).toBeUndefined();
  });
});
