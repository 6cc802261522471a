/** A try's log: the try asked for (by default the latest), read page by page, and followed while it runs. */
import { MedallionError, NotFoundError } from '../core/errors.js';
import type { AttemptRecord, MetadataStore } from '../metadata/metadata-store.js';
import { systemClock } from '../orchestrator/clock.js';

const AWAITING_A_TRY = new Set(['scheduled', 'queued', 'up_for_retry']);

export interface LogRequest {
  runId: string;
  taskId: string;
  /** 1-based; default the latest (with `follow`, the one the task waits for, if it waits). */
  attempt?: number;
  /** Wait for a pending try, and go on reading until the try ends. */
  follow?: boolean;
  pollMs?: number;
  /** Stops following. */
  signal?: AbortSignal;
  /** Told once when the task waits for its next try. */
  onWaiting?: (message: string) => void;
}

/** New lines of the try, as they are stored; `attempt` is the try as it was when they were read. */
export interface LogChunk {
  attempt: AttemptRecord;
  lines: string[];
}

/**
 * The attempt asked for, by default the latest; when following (and no attempt is named), a task waiting for a try
 * (its first one, a retry, or after a clear) is waited for until that try starts.
 */
export async function findAttempt(
  store: MetadataStore,
  request: LogRequest,
): Promise<AttemptRecord | undefined> {
  const { runId, taskId } = request;
  let announced = false;
  while (!request.signal?.aborted) {
    // The instance before its attempts: a try claimed in between is then among the attempts.
    const instance = await store.getTaskInstance(runId, taskId);
    if (!instance) {
      throw new NotFoundError(`run ${runId} has no task ${taskId}`, {
        context: { field: 'TASK' },
        hint: `list its tasks with \`medallion tasks ${runId}\``,
      });
    }
    const attempts = await store.listAttempts(runId, taskId);
    if (request.attempt !== undefined) {
      const asked = attempts.find((attempt) => attempt.attempt === request.attempt);
      if (asked) return asked;
      throw new NotFoundError(`task ${taskId} of run ${runId} has no attempt ${request.attempt}`, {
        context: { field: 'attempt' },
        hint: `it has made ${attempts.length} attempt(s) so far`,
      });
    }
    const awaiting = AWAITING_A_TRY.has(instance.state);
    if (!request.follow || !awaiting) {
      const latest = attempts.at(-1);
      if (latest) return latest;
      throw new MedallionError(`task ${taskId} of run ${runId} has not run (${instance.state})`, {
        hint: awaiting ? 'follow it to wait for its first try' : undefined,
      });
    }
    const next = attempts.find((attempt) => attempt.attempt > instance.tryNumber);
    if (next) return next;
    if (!announced) {
      const at = instance.nextTryAt ? `, not before ${instance.nextTryAt}` : '';
      request.onWaiting?.(`waiting for try ${instance.tryNumber + 1} of ${taskId} (${instance.state}${at})`);
      announced = true;
    }
    await systemClock.sleep(request.pollMs ?? 500, request.signal);
  }
  return undefined;
}

/**
 * The try's lines from `afterLine` on, in chunks; following, until the try ends (or the signal aborts). The last
 * chunk carries the try as it ended (possibly with no lines).
 */
export async function* readTryLog(
  store: MetadataStore,
  request: LogRequest,
  afterLine = 0,
): AsyncGenerator<LogChunk> {
  let attempt = await findAttempt(store, request);
  if (!attempt) return;
  let after = afterLine;
  for (;;) {
    // The state is read before the lines: a try's last lines are stored before it is marked finished.
    const current = (await store.listAttempts(request.runId, request.taskId)).find(
      (candidate) => candidate.attempt === attempt?.attempt,
    );
    attempt = current ?? attempt;
    for (;;) {
      const page = await store.readLog(request.runId, request.taskId, attempt.attempt, after, 1000);
      if (page.lines.length === 0) break;
      after = page.nextLine;
      yield { attempt, lines: page.lines };
    }
    if (!request.follow || attempt.state !== 'running' || request.signal?.aborted) {
      yield { attempt, lines: [] };
      return;
    }
    await systemClock.sleep(request.pollMs ?? 500, request.signal);
  }
}
