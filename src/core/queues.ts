/**
 * Task queues: a task names the queue whose workers may run it (bigger machines, a GPU, a network zone), and a
 * worker serves the queues it lists. Which queues have no live worker is decided here from the fleet's records.
 */
import { z } from 'zod';

/** The queue of a task that names none, and the one a worker serves unless told others. */
export const DEFAULT_QUEUE = 'default';

export const queueNameSchema = z
  .string()
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a queue name: lower-case letters, digits, - and _');

/** How a process that claims from every queue (a single-machine scheduler) records its queues. */
export const EVERY_QUEUE = '*';

/** What the fleet serves: each live executing process's queues (null: it executes nothing). */
export interface QueueServer {
  queues: readonly string[] | null;
}

/** The queues among `wanted` that no live process serves (their tasks wait until a worker for them starts). */
export function unservedQueues(wanted: Iterable<string>, servers: readonly QueueServer[]): string[] {
  const served = new Set(servers.flatMap((server) => server.queues ?? []));
  if (served.has(EVERY_QUEUE)) return [];
  return [...new Set(wanted)].filter((queue) => !served.has(queue)).sort();
}
