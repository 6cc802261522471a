/**
 * `medallion scheduler` as real processes for tests: started from the build (run `npm run build` first), their
 * output kept, killed by PID when a test is done with them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const MEDALLION_BIN = path.resolve('dist/cli/main.js');
/** The built public API, as a pipeline module imports it (`import { definePipeline } from 'medallion'`). */
export const BUILT_INDEX_URL = pathToFileURL(path.resolve('dist/index.js')).href;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SchedulerProcess {
  readonly pid: number;
  /** What it printed on stdout alone. */
  stdout(): string;
  /** Closes the reading end of its stdout, as `head` does once it has read enough. */
  closeStdout(): void;
  /** Resolves once the process has exited. */
  readonly exited: Promise<Exit>;
  /** Whether it has exited. */
  readonly done: boolean;
  /** What it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** The worker name it announced (host:pid:random), as its attempts record it. */
  worker(): Promise<string>;
}

const running = new Map<number, SchedulerProcess>();

export interface ProcessOptions {
  /** Options of node itself, e.g. `--import HOOK`. */
  nodeArgs?: readonly string[];
  /** Variables added to the environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts `medallion scheduler` with these flags. */
export function startSchedulerProcess(
  args: readonly string[],
  options: ProcessOptions = {},
): SchedulerProcess {
  return startMedallionProcess(['scheduler', ...args], options);
}

/** Starts `medallion ARGS` (any command) as its own process, its output kept. */
export function startMedallionProcess(
  args: readonly string[],
  options: ProcessOptions = {},
): SchedulerProcess {
  if (!existsSync(MEDALLION_BIN)) {
    throw new Error(`${MEDALLION_BIN} does not exist: run \`npm run build\` before these tests`);
  }
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MEDALLION_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    ...(options.cwd && { cwd: options.cwd }),
  });
  if (child.pid === undefined) throw new Error('the scheduler process did not start');
  const pid = child.pid;
  let output = '';
  let stdout = '';
  let done = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      running.delete(pid);
      resolve({ code, signal });
    });
  });
  const handle: SchedulerProcess = {
    pid,
    exited,
    get done() {
      return done;
    },
    output: () => output,
    stdout: () => stdout,
    closeStdout: () => child.stdout.destroy(),
    worker: async () => {
      const match = await waitFor(
        async () =>
          /^medallion (?:scheduler|worker|serve) (\S+): /m.exec(output) ?? (done ? 'exited' : undefined),
        { what: `scheduler ${pid} to announce itself`, timeoutMs: 20_000, intervalMs: 25 },
      );
      if (match === 'exited') throw new Error(`scheduler ${pid} exited before starting:\n${output}`);
      return match[1] as string;
    },
  };
  running.set(pid, handle);
  return handle;
}

/** Sends `signal` to the process by its PID (nothing when it has already exited). */
export function signal(process_: SchedulerProcess, name: NodeJS.Signals): void {
  if (process_.done) return;
  try {
    process.kill(process_.pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM (the scheduler finishes its running tries and exits), then SIGKILL after `graceMs`. */
export async function stopGracefully(process_: SchedulerProcess, graceMs = 10_000): Promise<Exit> {
  signal(process_, 'SIGTERM');
  const timer = setTimeout(() => signal(process_, 'SIGKILL'), graceMs);
  try {
    return await process_.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every scheduler process these helpers started that is still running, and waits for them. */
export async function killSchedulerProcesses(): Promise<void> {
  const left = [...running.values()];
  for (const process_ of left) signal(process_, 'SIGKILL');
  await Promise.all(left.map((process_) => process_.exited));
}

/** Polls `probe` until it returns something other than undefined or false; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  options: { what: string; timeoutMs?: number; intervalMs?: number; detail?: () => string | Promise<string> },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const detail = await options.detail?.();
      throw new Error(`timed out waiting for ${options.what}${detail ? `\n${detail}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** Writes a pipeline module (an .mjs whose default export is the definition) and returns its path. */
export async function writePipelineModule(file: string, body: string): Promise<string> {
  await writeFile(file, `import { definePipeline } from ${JSON.stringify(BUILT_INDEX_URL)};\n${body}`);
  return file;
}
