/**
 * vitest's global setup: gives the run its own temp directory (TMPDIR, the S3 download cache), and at the end
 * fails the run when a test wrote outside it — into the checkout (e.g. `.medallion/metadata.db`) or the user's
 * own medallion cache — or left a process running (those are killed, by PID).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  changes,
  processesMarked,
  RUN_MARKER,
  snapshot,
  watchedPlaces,
  type MarkedProcess,
} from './sandbox.js';

const EXIT_GRACE_MS = 2_000;

const HINT = [
  '  give each test its own paths: mkdtemp under os.tmpdir(), --db sqlite:<tmp>/…, --lake <tmp>, a cwd of its own',
  '  (a file edited by hand during the run, or another medallion process using the same cache, shows up here too)',
].join('\n');

async function leftoverProcesses(run: string): Promise<MarkedProcess[]> {
  // A process a test has just killed may take a moment to go.
  const deadline = Date.now() + EXIT_GRACE_MS;
  for (;;) {
    const found = await processesMarked(RUN_MARKER, run, process.pid);
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sandbox = await mkdtemp(path.join(os.tmpdir(), 'medallion-tests-'));
  const run = path.basename(sandbox);
  await mkdir(path.join(sandbox, 'tmp'));
  // The pool forks its workers after global setup, with this environment; their children inherit it.
  Object.assign(process.env, {
    [RUN_MARKER]: run,
    TMPDIR: path.join(sandbox, 'tmp'),
    MEDALLION_CACHE_DIR: path.join(sandbox, 's3-cache'),
  });
  const places = watchedPlaces(project.config.root);
  const before = await Promise.all(places.map(snapshot));

  return async () => {
    const wrote: string[] = [];
    for (const [index, place] of places.entries()) {
      const changed = changes(before[index] ?? new Map(), await snapshot(place));
      if (changed.length > 0)
        wrote.push(`  ${place.label} (${place.root}):`, ...changed.map((line) => `    ${line}`));
    }
    const left = await leftoverProcesses(run);
    for (const { pid } of left) kill(pid);
    await rm(sandbox, { recursive: true, force: true });
    const problems = [
      ...(wrote.length === 0 ? [] : ['tests wrote outside their temp directories:', ...wrote, HINT]),
      ...(left.length === 0 ? [] : ['tests left processes running (killed now):']),
      ...left.map(({ pid, command }) => `    ${pid} ${command}`),
    ];
    if (problems.length === 0) return;
    console.error(`\nmedallion test sandbox: ${problems.join('\n')}\n`);
    // A throw here is only logged by vitest, and the run would still exit 0.
    process.exitCode = 1;
  };
}
