/**
 * The fleet: the medallion processes recorded in the metadata store (schedulers, workers, servers, runs), whether
 * each is alive, what it serves and runs now; and which queued tasks wait for a queue that nobody serves.
 */
import { unservedQueues } from '../core/queues.js';
import { isRunFinished } from '../core/run-state.js';
import type {
  MetadataStore,
  ProcessRecord,
  RunRecord,
  TaskInstanceRecord,
} from '../metadata/metadata-store.js';
import { liveness, type Liveness } from '../orchestrator/liveness.js';

/** How long a process may be silent before it is taken for gone, as schedulers assume by default. */
export const STALE_AFTER_MS = 30_000;

export interface ProcessView extends ProcessRecord {
  state: Liveness;
  /** Tries it is running now. */
  runningTries: number;
}

/** The processes alive (and, with `includeStopped`, those gone too), each with its running tries. */
export async function listFleet(
  store: MetadataStore,
  options: { includeStopped?: boolean; now?: Date } = {},
): Promise<ProcessView[]> {
  const now = options.now ?? new Date();
  const [records, running] = await Promise.all([
    store.listProcesses({ includeStopped: options.includeStopped ?? false }),
    store.runningAttempts(),
  ]);
  const tries = new Map<string, number>();
  for (const attempt of running) tries.set(attempt.worker, (tries.get(attempt.worker) ?? 0) + 1);
  return records
    .map((record) => ({
      ...record,
      state: liveness(record, now, STALE_AFTER_MS),
      runningTries: tries.get(record.id) ?? 0,
    }))
    .filter((view) => options.includeStopped || view.state === 'alive');
}

/**
 * The queues of the run's queued tasks that no live process able to run its pipeline serves: those tasks wait
 * until a worker for the queue starts. None for a run a `medallion run` process owns (it runs every task itself).
 */
export async function unservedQueuesOf(
  store: MetadataStore,
  run: RunRecord,
  tasks: readonly TaskInstanceRecord[],
): Promise<Set<string>> {
  const queued = tasks.filter((task) => task.state === 'queued').map((task) => task.queue);
  if (run.owner !== null || isRunFinished(run.state) || queued.length === 0) return new Set();
  // The processes alone (not their running tries): `trigger --wait` asks at every poll.
  const now = new Date();
  const servers = (await store.listProcesses()).filter(
    (process) =>
      process.kind !== 'run' &&
      process.pipelines.some((pipeline) => pipeline.name === run.pipeline) &&
      liveness(process, now, STALE_AFTER_MS) === 'alive',
  );
  return new Set(unservedQueues(queued, servers));
}
