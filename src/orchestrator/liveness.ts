/**
 * Which medallion processes are alive, from their heartbeats in the metadata store (and, for a process on this
 * host, whether its PID still exists), and what happens to the runs a dead one owned.
 */
import { hostname } from 'node:os';
import type { MetadataStore, ProcessRecord, RunRecord } from '../metadata/metadata-store.js';
import type { ProgressListener } from '../core/progress.js';

export type Liveness = 'alive' | 'stopped' | 'dead';

/** How to tell a process of this host is gone without waiting for its heartbeat to age. */
export interface LivenessProbe {
  host: string;
  pidAlive(pid: number): boolean;
}

export const localProbe: LivenessProbe = {
  host: hostname(),
  pidAlive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: the PID exists but belongs to another user.
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
};

export function liveness(
  record: ProcessRecord,
  now: Date,
  staleAfterMs: number,
  probe: LivenessProbe = localProbe,
): Liveness {
  if (record.stoppedAt !== null) return 'stopped';
  if (record.host === probe.host && !probe.pidAlive(record.pid)) return 'dead';
  return now.getTime() - Date.parse(record.heartbeatAt) > staleAfterMs ? 'dead' : 'alive';
}

/** "host:pid:x (no heartbeat since 2024-…)" — how a process that is not alive is gone. */
export function describeGone(record: ProcessRecord, state: Liveness): string {
  if (state === 'stopped') return `${record.id} stopped at ${record.stoppedAt}`;
  return `${record.id} is gone (last heartbeat ${record.heartbeatAt})`;
}

export interface AbandonedRunsOptions {
  now: Date;
  staleAfterMs: number;
  probe?: LivenessProbe;
  progress?: ProgressListener;
}

/**
 * Ends as failed the queued and running runs whose owner (the `medallion run` process that drives each alone) is
 * gone: nothing else will finish them. A run whose owner has not recorded itself yet is given staleAfterMs from its
 * creation. Returns the runs ended.
 */
export async function failAbandonedRuns(
  store: MetadataStore,
  runs: readonly RunRecord[],
  options: AbandonedRunsOptions,
): Promise<RunRecord[]> {
  const ended: RunRecord[] = [];
  for (const run of runs) {
    if (run.owner === null || (run.state !== 'queued' && run.state !== 'running')) continue;
    const owner = await store.getProcess(run.owner);
    const state = owner
      ? liveness(owner, options.now, options.staleAfterMs, options.probe)
      : options.now.getTime() - Date.parse(run.createdAt) > options.staleAfterMs
        ? 'dead'
        : 'alive';
    if (state === 'alive') continue;
    const reason = `abandoned: the process that ran it, ${owner ? describeGone(owner, state) : `${run.owner}, never reported`}`;
    const finishedAt = options.now.toISOString();
    if (await store.endRun(run.id, { state: 'failed', reason, finishedAt })) {
      options.progress?.({ type: 'run-abandoned', runId: run.id, pipeline: run.pipeline, reason });
      ended.push(run);
    }
  }
  return ended;
}

/** The live processes that schedule runs of the pipeline (schedulers and servers that loaded it). */
export async function liveSchedulers(
  store: MetadataStore,
  pipeline: string,
  now: Date,
  staleAfterMs: number,
  probe: LivenessProbe = localProbe,
): Promise<ProcessRecord[]> {
  return (await store.listProcesses()).filter(
    (record) =>
      (record.kind === 'scheduler' || record.kind === 'serve') &&
      record.pipelines.some((loaded) => loaded.name === pipeline) &&
      liveness(record, now, staleAfterMs, probe) === 'alive',
  );
}
