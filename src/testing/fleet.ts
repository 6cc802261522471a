/**
 * The deployment's topology as plain processes, started the way a user starts it: deploy/processes/fleet.mjs
 * (a scheduler that only schedules, and workers). Logs and PIDs under the fleet's directory; every process is
 * killed by PID when the test is done with it.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const FLEET_SCRIPT = path.resolve('deploy/processes/fleet.mjs');
const run = promisify(execFile);

export interface Fleet {
  dir: string;
  pid(name: string): Promise<number>;
  /** What the process printed so far. */
  log(name: string): Promise<string>;
  /** Whether the process still runs. */
  alive(name: string): Promise<boolean>;
  /** Signals one process by its PID. */
  signal(name: string, signal: NodeJS.Signals): Promise<void>;
  /** Starts more processes of the topology (say, a worker for another queue), in the same directory. */
  add(args: readonly string[]): Promise<void>;
  /** SIGTERM to all (they drain), SIGKILL after graceMs; resolves once none runs. */
  stop(graceMs?: number): Promise<void>;
}

export interface FleetOptions {
  dir: string;
  config: string;
  /** `NAME` or `NAME:QUEUES`, as fleet.mjs --worker takes them. */
  workers: readonly string[];
  /** Flags given to every process. */
  args?: readonly string[];
  env: NodeJS.ProcessEnv;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const env = { ...process.env, ...options.env };
  const common = [
    '--dir',
    options.dir,
    '--config',
    options.config,
    ...(options.args ?? []).map((a) => `--arg=${a}`),
  ];
  const fleet = (args: readonly string[]) => run(process.execPath, [FLEET_SCRIPT, ...args], { env });
  await fleet(['start', ...common, ...options.workers.flatMap((worker) => ['--worker', worker])]);
  const pid = async (name: string) => Number(await readFile(path.join(options.dir, `${name}.pid`), 'utf8'));
  return {
    dir: options.dir,
    pid,
    log: (name) => readFile(path.join(options.dir, `${name}.log`), 'utf8'),
    signal: async (name, signal) => void process.kill(await pid(name), signal),
    alive: async (name) => {
      try {
        process.kill(await pid(name), 0);
        return true;
      } catch {
        return false;
      }
    },
    // A fleet of workers only: the scheduler of the first start goes on.
    add: async (workers) => {
      await fleet([
        'start',
        ...common,
        '--no-scheduler',
        ...workers.flatMap((worker) => ['--worker', worker]),
      ]);
    },
    stop: async (graceMs = 30_000) => {
      await fleet(['stop', '--dir', options.dir, '--grace-ms', String(graceMs)]);
    },
  };
}
