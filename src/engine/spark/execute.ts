import { randomUUID } from 'node:crypto';
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { errorInfoOf, isServiceError } from './errors.js';
import type { ExecutePlanResponse__Output } from './generated/spark/connect/ExecutePlanResponse.js';
import type { Plan } from './generated/spark/connect/Plan.js';
import { sessionFields, type SessionContext } from './session.js';

export interface ExecuteOptions {
  /** Tags for Interrupt by tag (no commas, not empty). */
  tags?: string[];
  /** The operation's id (a UUID); a fresh one by default. */
  operationId?: string;
}

/** How often a broken response stream is resumed before the failure is reported, and the waits between. */
export const REATTACH_RETRY = { attempts: 6, firstDelayMs: 100, maxDelayMs: 5_000 };

/**
 * Runs a plan with ExecutePlan and yields its responses up to `result_complete`. The execution is reattachable:
 * when the stream breaks (server unreachable, connection reset) or the server ends it early — it does so on
 * purpose for long operations — the generator resumes with ReattachExecute after the last response it got, with
 * bounded retries and exponential backoff. The operation is released (ReleaseExecute) at the end, on failure, and
 * when the consumer stops early, which also interrupts it on the server.
 */
export async function* executePlan(
  session: SessionContext,
  plan: Plan,
  options: ExecuteOptions = {},
): AsyncGenerator<ExecutePlanResponse__Output> {
  const operationId = options.operationId ?? randomUUID();
  let lastResponseId: string | undefined;
  let mode: 'execute' | 'reattach' = 'execute';
  let failures = 0;
  let complete = false;
  let call: ClientReadableStream<ExecutePlanResponse__Output> | undefined;
  try {
    while (!complete) {
      call =
        mode === 'execute'
          ? session.stub.ExecutePlan(
              {
                ...sessionFields(session),
                operation_id: operationId,
                plan,
                tags: options.tags ?? [],
                request_options: [{ reattach_options: { reattachable: true } }],
              },
              session.metadata(),
            )
          : session.stub.ReattachExecute(
              {
                ...sessionFields(session),
                operation_id: operationId,
                ...(lastResponseId === undefined ? {} : { last_response_id: lastResponseId }),
              },
              session.metadata(),
            );
      try {
        for await (const response of call as AsyncIterable<ExecutePlanResponse__Output>) {
          failures = 0;
          mode = 'reattach';
          lastResponseId = response.response_id;
          if (response.response_type === 'result_complete') complete = true;
          yield response;
        }
        // The stream ended without result_complete: the server closed it to bound its duration; resume.
        mode = 'reattach';
      } catch (error) {
        const next = retryMode(error, mode, lastResponseId);
        failures += 1;
        if (next === undefined || failures > REATTACH_RETRY.attempts) throw await session.failure(error);
        mode = next;
        await sleep(backoff(failures));
      }
    }
  } finally {
    call?.cancel();
    await releaseOperation(session, operationId);
  }
}

/** How to continue after a failed stream: undefined when the error is final. */
function retryMode(
  error: unknown,
  mode: 'execute' | 'reattach',
  lastResponseId: string | undefined,
): 'execute' | 'reattach' | undefined {
  if (!isServiceError(error)) return undefined;
  const errorClass = errorInfoOf(error).errorClass ?? '';
  // Sent ExecutePlan before a break the server did get: it runs, so attach to it.
  if (errorClass === 'INVALID_HANDLE.OPERATION_ALREADY_EXISTS') return 'reattach';
  // Reattached to an operation the server never registered (the first request was lost): send it again.
  if (
    errorClass === 'INVALID_HANDLE.OPERATION_NOT_FOUND' &&
    mode === 'reattach' &&
    lastResponseId === undefined
  ) {
    return 'execute';
  }
  // Another stream attached to the operation took over (e.g. a reattach racing a slow break): take it back.
  if (errorClass === 'INVALID_CURSOR.DISCONNECTED') return 'reattach';
  if (error.code === status.UNAVAILABLE) return mode;
  return undefined;
}

function backoff(failures: number): number {
  const delay = REATTACH_RETRY.firstDelayMs * 2 ** (failures - 1);
  return Math.min(delay, REATTACH_RETRY.maxDelayMs) * (0.75 + Math.random() / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Frees the server's buffered responses of the operation (and stops it if it still runs). Best effort. */
async function releaseOperation(session: SessionContext, operationId: string): Promise<void> {
  await new Promise<void>((resolve) => {
    session.stub.ReleaseExecute(
      { ...sessionFields(session), operation_id: operationId, release_all: {} },
      session.metadata(),
      { deadline: Date.now() + 10_000 },
      () => resolve(),
    );
  });
}
