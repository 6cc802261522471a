/** How a failed task is tried again: at most `retries` more times, after a delay that may grow. */
export interface RetryPolicy {
  retries: number;
  retryDelayMs: number;
  /** Double the delay after each failed try. */
  exponentialBackoff: boolean;
  /** Cap on the delay when it grows. */
  maxRetryDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 0,
  retryDelayMs: 5 * 60_000,
  exponentialBackoff: false,
  maxRetryDelayMs: 60 * 60_000,
};

/**
 * When the try after failed try `tryNumber` (1-based) may start, or undefined when none is left. `maxTries`
 * defaults to the policy's; clearing a failed task raises it for the task instance.
 */
export function nextTryAt(
  policy: RetryPolicy,
  tryNumber: number,
  failedAt: Date,
  maxTries = policy.retries + 1,
): Date | undefined {
  if (tryNumber >= maxTries) return undefined;
  const delay = policy.exponentialBackoff
    ? Math.min(policy.retryDelayMs * 2 ** (tryNumber - 1), policy.maxRetryDelayMs)
    : policy.retryDelayMs;
  return new Date(failedAt.getTime() + delay);
}
