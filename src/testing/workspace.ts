/**
 * Workspaces for tests that start real processes: a temp directory and a metadata database each, removed after
 * each test, once every process the helpers of scheduler-process.ts started has been killed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { killSchedulerProcesses } from './scheduler-process.js';

export interface Workspace {
  dir: string;
  /** `sqlite:<dir>/metadata.db`. */
  db: string;
  /** Open on that database until the test ends. */
  store: MetadataStore;
}

/** Registers the cleanup with vitest (call it at the top of a test file); returns how to make workspaces. */
export function processWorkspaces(): {
  workspace(label: string): Promise<Workspace>;
  defer(cleanup: () => Promise<void>): void;
} {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await killSchedulerProcesses();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    defer: (cleanup) => cleanups.push(cleanup),
    async workspace(label) {
      const dir = await mkdtemp(path.join(os.tmpdir(), `medallion-${label}-`));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const db = `sqlite:${path.join(dir, 'metadata.db')}`;
      const store = await openMetadataStore(db);
      cleanups.push(() => store.close());
      return { dir, db, store };
    },
  };
}
