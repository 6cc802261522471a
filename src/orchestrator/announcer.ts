import { hostname } from 'node:os';
import type { MetadataStore, ProcessKind } from '../metadata/metadata-store.js';
import type { PipelineCatalog } from './catalog.js';
import type { Clock } from './clock.js';

export interface AnnouncerOptions {
  id: string;
  kind: ProcessKind;
  catalog: PipelineCatalog;
  heartbeatMs: number;
  /** What it executes: queues (EVERY_QUEUE for all) and slots; null when it executes nothing. */
  executes: { queues: string[]; slots: number } | null;
}

/** This process's row in the processes table: what it is and runs, and that it is alive (its heartbeat). */
export class ProcessAnnouncer {
  private readonly startedAt: Date;
  private lastAnnounced = -Infinity;

  constructor(
    private readonly store: MetadataStore,
    private readonly clock: Clock,
    private readonly options: AnnouncerOptions,
  ) {
    this.startedAt = clock.now();
  }

  /** Records the process (with `force` false: only when a heartbeat is due). */
  async announce(now = this.clock.now(), force = true): Promise<void> {
    if (!force && now.getTime() - this.lastAnnounced < this.options.heartbeatMs) return;
    const { executes } = this.options;
    await this.store.recordProcess(
      {
        id: this.options.id,
        kind: this.options.kind,
        host: hostname(),
        pid: process.pid,
        startedAt: this.startedAt.toISOString(),
        pipelines: this.options.catalog.announced(),
        queues: executes?.queues ?? null,
        slots: executes?.slots ?? null,
      },
      now.toISOString(),
    );
    this.lastAnnounced = now.getTime();
  }

  /** Records that the process stopped cleanly (nobody waits for its heartbeat). */
  async stopped(): Promise<void> {
    await this.store.stopProcess(this.options.id, this.clock.now().toISOString());
  }
}

/** A process's name in attempts and in the processes table: host:pid:random unless given. */
export function processId(given?: string): string {
  return given ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}
