/**
 * Each run's scratch directory (DuckDB's spill files, staged Parquet) under a base directory, marked with the
 * process that made it: a process killed mid-run cannot remove its own, so the next runner on this host removes
 * the directories whose process is gone.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { localProbe, type LivenessProbe } from '../orchestrator/liveness.js';

const PREFIX = 'medallion-';
const OWNER_FILE = '.owner.json';

export function scratchDirOf(base: string, runId: string): string {
  return path.join(base, `${PREFIX}${runId}`);
}

/** Creates the run's scratch directory, marked as this process's. */
export async function makeScratchDir(base: string, runId: string): Promise<string> {
  const dir = scratchDirOf(base, runId);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, OWNER_FILE), JSON.stringify({ host: localProbe.host, pid: process.pid }));
  return dir;
}

/** Removes the scratch directories under `base` that a process of this host left behind when it died. */
export async function sweepScratchDirs(base: string, probe: LivenessProbe = localProbe): Promise<string[]> {
  const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith(`${PREFIX}run_`)) continue;
    const dir = path.join(base, entry.name);
    const owner = await readFile(path.join(dir, OWNER_FILE), 'utf8')
      .then((text) => JSON.parse(text) as { host?: unknown; pid?: unknown })
      .catch(() => undefined);
    if (owner?.host !== probe.host || typeof owner.pid !== 'number' || probe.pidAlive(owner.pid)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
