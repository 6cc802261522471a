/**
 * What the test-run guard (sandbox-setup.ts) looks at: the places a test must not write to, compared before
 * and after the run, and the processes tests started that still run at the end.
 */
import { readdir, readFile, lstat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Set in every test's environment; the processes tests start inherit it, which is how leftovers are found. */
export const RUN_MARKER = 'MEDALLION_TEST_RUN';

/** A directory tree to watch; `skip` names top-level entries other tools own (the build, npm, the venv). */
export interface WatchedPlace {
  label: string;
  root: string;
  skip: readonly string[];
}

/** What a file looked like: its size and modification time (directories: only that they exist). */
type Snapshot = Map<string, string>;

/** The checkout minus what the build and the tooling write (dist, npm's node_modules, .cache: the venv, results). */
export function watchedPlaces(checkout: string): WatchedPlace[] {
  return [
    { label: 'the checkout', root: checkout, skip: ['.git', 'node_modules', 'dist', '.cache'] },
    // medallion's defaults under the user's home (the S3 download cache); bin/ holds the MinIO that
    // scripts/services/minio.sh builds for the tests.
    {
      label: "the user's medallion cache",
      root: path.join(os.homedir(), '.cache', 'medallion'),
      skip: ['bin'],
    },
  ];
}

/** Every entry under `root` (symlinks not followed); empty when `root` does not exist. */
export async function snapshot(place: WatchedPlace): Promise<Snapshot> {
  const entries: Snapshot = new Map();
  const walk = async (relative: string): Promise<void> => {
    const children = await readdir(path.join(place.root, relative), { withFileTypes: true }).catch(() => []);
    for (const child of children) {
      const name = path.join(relative, child.name);
      if (relative === '' && place.skip.includes(child.name)) continue;
      if (child.isDirectory()) {
        // A directory's own time changes when a test adds and removes a file of its own in it: not a trace.
        entries.set(`${name}/`, 'directory');
        await walk(name);
        continue;
      }
      const info = await lstat(path.join(place.root, name)).catch(() => undefined);
      if (info) entries.set(name, `${info.size} bytes, modified ${info.mtime.toISOString()}`);
    }
  };
  await walk('');
  return entries;
}

/** What changed between two snapshots, one line per entry: `+ added`, `~ changed`, `- removed`. */
export function changes(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const [name, now] of after) {
    const then = before.get(name);
    if (then === undefined) lines.push(`+ ${name}`);
    else if (then !== now) lines.push(`~ ${name} (${then} → ${now})`);
  }
  for (const name of before.keys()) if (!after.has(name)) lines.push(`- ${name}`);
  return lines.sort((a, b) => a.slice(2).localeCompare(b.slice(2)));
}

export interface MarkedProcess {
  pid: number;
  command: string;
}

/**
 * The processes whose environment holds `name=value` (children inherit it from the test workers), except
 * `parent`'s direct children: vitest's own workers. Reads /proc; where there is none, finds nothing.
 */
export async function processesMarked(name: string, value: string, parent: number): Promise<MarkedProcess[]> {
  const pids = (await readdir('/proc').catch(() => [])).filter((entry) => /^\d+$/.test(entry)).map(Number);
  const found: MarkedProcess[] = [];
  for (const pid of pids) {
    // Gone, a zombie or another user's: unreadable, and not a process left running by this run.
    const [environ, stat, cmdline] = await Promise.all(
      ['environ', 'stat', 'cmdline'].map((file) => readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '')),
    );
    if (!environ?.split('\0').includes(`${name}=${value}`)) continue;
    // stat: "pid (command) state ppid …"; the command may hold spaces and parentheses.
    const ppid = Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (pid === process.pid || ppid === parent) continue;
    found.push({ pid, command: (cmdline ?? '').split('\0').join(' ').trim().slice(0, 300) });
  }
  return found;
}
