import { spawn } from 'node:child_process';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../metadata/metadata-store.js';
import { medallion, MEDALLION_CLI } from '../testing/medallion-cli.js';

/** A long-running `medallion` (scheduler, serve): its output kept, stopped by PID when the test ends. */
interface Daemon {
  output(): string;
  /** Resolves with the first match of `pattern` in the output, waiting for it up to 10 s. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

const daemons: Daemon[] = [];

function start(args: string[], env: NodeJS.ProcessEnv = process.env): Daemon {
  const child = spawn(process.execPath, [MEDALLION_CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const daemon: Daemon = {
    output: () => output,
    async waitFor(pattern) {
      for (let waited = 0; waited < 10_000; waited += 50) {
        const match = output.match(pattern);
        if (match) return match;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no ${pattern} in the output of medallion ${args[0]}:\n${output}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
      }
      return exited;
    },
  };
  daemons.push(daemon);
  return daemon;
}

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
});

let dir: string;
let jobs: string;
let daily: string;

/** A fresh metadata database for one test. */
function db(name: string): string[] {
  return ['--db', `sqlite:${path.join(dir, `${name}.db`)}`];
}

/** `medallion trigger jobs` with these flags. */
function triggerJobs(database: string[], ...args: string[]): ReturnType<typeof medallion> {
  return medallion([
    'trigger',
    'jobs',
    '--pipeline',
    jobs,
    '--lake',
    path.join(dir, 'lake'),
    ...database,
    ...args,
  ]);
}

/** `medallion scheduler` over the jobs pipeline, polling fast. */
function scheduler(database: string[]): Daemon {
  const args = ['--pipeline', jobs, ...database, '--lake', path.join(dir, 'lake')];
  return start(['scheduler', ...args, '--source', path.join(dir, 'source'), '--poll-ms', '50']);
}

/** A pipeline module as a user writes one, against the built public API; `definition` is its object literal. */
async function writePipeline(file: string, definition: string): Promise<void> {
  const api = pathToFileURL(path.resolve('dist/index.js')).href;
  await writeFile(
    file,
    `import { existsSync } from 'node:fs';\nimport { definePipeline } from '${api}';\n\n` +
      `export default definePipeline(${definition});\n`,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-orchestration-cli-'));
  await mkdir(path.join(dir, 'source'));
  jobs = path.join(dir, 'jobs.mjs');
  // extract logs and succeeds; publish fails until the file its `up` parameter names exists; notify follows it.
  await writePipeline(
    jobs,
    `{
  name: 'jobs',
  sources: [],
  tables: [],
  params: {
    region: { type: 'string', choices: ['eu', 'us'], default: 'eu' },
    batch: { type: 'integer' },
    up: { type: 'string', default: '${path.join(dir, 'never')}' },
  },
  tasks: [
    {
      name: 'extract',
      run: async (context) => {
        context.log('extracting for ' + context.params.region);
        return { detail: 'extracted' };
      },
    },
    {
      name: 'publish',
      dependsOn: ['extract'],
      run: async (context) => {
        context.log('publishing');
        if (!existsSync(context.params.up)) throw new Error('the target is down');
        return { detail: 'published' };
      },
    },
    { name: 'notify', dependsOn: ['publish'], run: async () => ({ detail: 'sent' }) },
  ],
}`,
  );
  daily = path.join(dir, 'daily.mjs');
  await writePipeline(
    daily,
    `{
  name: 'daily',
  schedule: { every: '1d', startDate: '2024-01-01T00:00:00Z', maxActiveRuns: 2 },
  sources: [],
  tables: [],
  tasks: [{ name: 'work', run: async () => ({ detail: 'done' }) }],
}`,
  );
});

describe('the run control commands', () => {
  it('trigger queues a manual run with its parameters checked and converted, and prints its id', async () => {
    const database = db('trigger');
    const json = await triggerJobs(database, '--param', 'batch=3', '--json');
    expect(json.code).toBe(0);
    const run = JSON.parse(json.stdout) as RunRecord;
    expect(run).toMatchObject({ pipeline: 'jobs', trigger: 'manual', state: 'queued' });
    expect(run.params).toEqual({ region: 'eu', batch: 3, up: path.join(dir, 'never') });

    const plain = await triggerJobs(database, '--logical-date', '2024-03-01');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^run_\S+\n$/);
    expect(plain.stderr).toContain('a scheduler');
  });

  it('trigger exits 2 naming the parameter when a value or a name is not declared, or the pipeline is unknown', async () => {
    const database = db('trigger-invalid');
    const [badValue, badName, badPair, unknown] = await Promise.all([
      triggerJobs(database, '--param', 'region=asia'),
      triggerJobs(database, '--param', 'colour=red'),
      triggerJobs(database, '--param', 'region'),
      medallion(['trigger', 'nope', '--pipeline', jobs, ...database]),
    ]);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('parameter region: "asia" is not one of "eu", "us"');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('parameter colour: the pipeline declares no such parameter');
    expect(badPair.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no pipeline named nope');
    expect((await medallion(['runs', ...database, '--json'])).stdout.trim()).toBe('[]');
  });

  it('runs and tasks print tables for people and JSON for scripts; an unknown run exits 2', async () => {
    const database = db('tables');
    const runId = (await triggerJobs(database)).stdout.trim();

    const [table, runsJson, none, badState, tasks, tasksJson, clear, missing, missingLogs] =
      await Promise.all([
        medallion(['runs', ...database]),
        medallion(['runs', ...database, '--pipeline', 'jobs', '--json']),
        medallion(['runs', ...database, '--state', 'failed']),
        medallion(['runs', ...database, '--state', 'lost']),
        medallion(['tasks', runId, ...database]),
        medallion(['tasks', runId, ...database, '--json']),
        medallion(['clear', runId, '--pipeline', jobs, ...database]),
        medallion(['tasks', 'run_missing', ...database]),
        medallion(['logs', 'run_missing', 'extract', ...database]),
      ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/run\s+pipeline\s+logical date\s+trigger\s+state\s+started\s+duration/);
    expect(table.stdout).toMatch(new RegExp(`${runId}\\s+jobs\\s+.*manual\\s+queued`));
    expect((JSON.parse(runsJson.stdout) as RunRecord[]).map((run) => run.id)).toEqual([runId]);
    expect(none.stdout).toBe('no runs\n');
    expect(badState.code).toBe(2);

    expect(tasks.code).toBe(0);
    expect(tasks.stdout).toMatch(/task\s+state\s+try\s+duration\s+reason/);
    expect(tasks.stdout).toMatch(/extract\s+scheduled\s+0\/1\s+—/);
    const detail = JSON.parse(tasksJson.stdout) as { run: RunRecord; tasks: { taskId: string }[] };
    expect(detail.run.id).toBe(runId);
    expect(detail.tasks.map((task) => task.taskId).sort()).toEqual(['extract', 'notify', 'publish']);

    // A run with no failed task: nothing to clear, and that is no error.
    expect(clear).toMatchObject({ code: 0, stdout: expect.stringContaining('nothing to clear') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no run run_missing');
    expect(missingLogs.code).toBe(2);
  });

  it('trigger --wait exits 1 when the run fails; logs prints an attempt, and --follow exits 1 on a failed one', async () => {
    const database = db('logs');
    scheduler(database);
    const waited = await triggerJobs(database, '--wait', '--poll-ms', '50');
    expect(waited.code).toBe(1);
    const runId = waited.stdout.trim();
    expect(waited.stderr).toContain(`${runId} failed`);

    const extract = await medallion(['logs', runId, 'extract', ...database]);
    expect(extract.code).toBe(0);
    expect(extract.stdout).toMatch(
      /try 1 of extract started[\s\S]*extracting for eu[\s\S]*success in \d+ ms/,
    );
    const followed = await medallion(['logs', runId, 'publish', ...database, '--follow']);
    expect(followed.code).toBe(1);
    expect(followed.stdout).toContain('failed after');
    const json = JSON.parse(
      (await medallion(['logs', runId, 'publish', ...database, '--attempt', '1', '--json'])).stdout,
    );
    expect(json).toMatchObject({ attempt: 1, state: 'failed', reason: 'the target is down' });
    expect(json.lines).toHaveLength(3);
    expect((await medallion(['logs', runId, 'publish', ...database, '--attempt', '2'])).code).toBe(2);
    expect((await medallion(['logs', runId, 'notify', ...database])).code).toBe(2);

    const tasks = (await medallion(['tasks', runId, ...database])).stdout;
    expect(tasks).toMatch(/publish\s+failed\s+1\/1\s+[\d.]+ s\s+the target is down/);
    expect(tasks).toMatch(/notify\s+upstream_failed\s+0\/1/);
  });

  it('clear makes the failed task run again, and the run succeeds once the cause is gone', async () => {
    const database = db('clear');
    const up = path.join(dir, 'clear-up');
    scheduler(database);
    const failed = await triggerJobs(database, '--param', `up=${up}`, '--wait', '--poll-ms', '50');
    expect(failed.code).toBe(1);
    const runId = failed.stdout.trim();

    await writeFile(up, '');
    const clear = await medallion([
      'clear',
      runId,
      '--pipeline',
      jobs,
      ...database,
      '--task',
      'publish',
      '--json',
    ]);
    expect(clear.code).toBe(0);
    expect(JSON.parse(clear.stdout)).toEqual({ runId, cleared: ['notify', 'publish'] });
    // Without --attempt, --follow waits for the try the cleared task is waiting for.
    const followed = await medallion(['logs', runId, 'publish', ...database, '--follow', '--poll-ms', '50']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/try 2 of publish started[\s\S]*success in/);

    let run: RunRecord | undefined;
    for (let waited = 0; waited < 10_000 && run?.state !== 'success'; waited += 100) {
      run = (JSON.parse((await medallion(['runs', ...database, '--json'])).stdout) as RunRecord[])[0];
    }
    expect(run?.state).toBe('success');
    const tasks = (await medallion(['tasks', runId, ...database])).stdout;
    expect(tasks).toMatch(/publish\s+success\s+2\/2/);
    expect(tasks).toMatch(/notify\s+success\s+1\/1/);
  });

  it('a paused pipeline (never scheduled before) keeps its runs queued until it is unpaused', async () => {
    const database = db('pause');
    const paused = await medallion(['pause', 'jobs', '--pipeline', jobs, ...database, '--json']);
    expect(paused.code).toBe(0);
    expect(JSON.parse(paused.stdout)).toEqual({ pipeline: 'jobs', paused: true });
    expect((await medallion(['pause', 'nope', '--pipeline', jobs, ...database])).code).toBe(2);

    const trigger = await triggerJobs(database);
    expect(trigger.stderr).toContain('jobs is paused');
    const daemon = scheduler(database);
    await daemon.waitFor(/slot\(s\)/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await medallion(['runs', ...database, '--state', 'queued', '--json'])).stdout).toContain(
      trigger.stdout.trim(),
    );

    const unpaused = await medallion(['unpause', 'jobs', ...database]);
    expect(unpaused).toMatchObject({ code: 0, stdout: expect.stringContaining('jobs unpaused') });
    await daemon.waitFor(/✘ publish/);
  });

  it('backfill creates the interval runs in logical-date order, and a second backfill creates none', async () => {
    const database = db('backfill');
    const args = [
      'backfill',
      'daily',
      '--pipeline',
      daily,
      '--lake',
      path.join(dir, 'lake'),
      ...database,
      '--from',
      '2024-01-01',
      '--to',
      '2024-01-03',
    ];
    const first = await medallion([...args, '--json']);
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as { run: RunRecord; created: boolean }[];
    expect(created.map(({ run, created }) => [run.logicalDate, run.trigger, created])).toEqual([
      ['2024-01-01T00:00:00.000Z', 'backfill', true],
      ['2024-01-02T00:00:00.000Z', 'backfill', true],
      ['2024-01-03T00:00:00.000Z', 'backfill', true],
    ]);
    expect(created.map(({ run }) => run.createdAt)).toEqual(created.map(({ run }) => run.createdAt).sort());

    const again = await medallion(args);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 run(s) created, 3 already there');
    expect(again.stdout).toMatch(/2024-01-01\s+queued\s+existing/);
    const runs = JSON.parse((await medallion(['runs', ...database, '--json'])).stdout) as RunRecord[];
    expect(runs).toHaveLength(3);

    const unscheduled = await medallion([
      'backfill',
      'jobs',
      '--pipeline',
      jobs,
      '--lake',
      path.join(dir, 'lake'),
      ...database,
      '--from',
      '2024-01-01',
      '--to',
      '2024-01-02',
    ]);
    expect(unscheduled.code).toBe(2);
    expect(unscheduled.stderr).toContain('has no schedule');
    expect((await medallion([...args.slice(0, -2), '--to', '2024-13-40'])).code).toBe(2);
  });

  it('serve signs in its first admin from MEDALLION_ADMIN_PASSWORD, and answers only signed-in callers', async () => {
    const env = { ...process.env, MEDALLION_ADMIN_PASSWORD: 'a long enough password' };
    const database = db('serve');
    const source = ['--source', path.join(dir, 'source'), '--lake', path.join(dir, 'lake')];
    const daemon = start(
      ['serve', '--pipeline', jobs, ...database, ...source, '--port', '0', '--poll-ms', '50'],
      env,
    );
    const url = (await daemon.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1];
    expect(daemon.output()).toContain(
      'made the user admin (admin) with the password in MEDALLION_ADMIN_PASSWORD',
    );
    const get = (route: string, headers: Record<string, string> = {}) => fetch(`${url}${route}`, { headers });

    expect(await (await get('/api/health')).json()).toEqual({ status: 'ok' });
    expect((await get('/api/runs')).status).toBe(401);
    expect((await get('/metrics')).status).toBe(401);

    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'admin', password: 'a long enough password' }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const runId = (await triggerJobs(database)).stdout.trim();
    const runs = await get('/api/runs?pipeline=jobs&limit=5', { cookie });
    expect(runs.status).toBe(200);
    expect(((await runs.json()) as { runs: RunRecord[] }).runs.map((run) => run.id)).toEqual([runId]);
    expect((await get('/api/runs?limit=many', { cookie })).status).toBe(400);

    const token = await medallion(['tokens', 'add', 'prometheus', '--user', 'admin', ...database]);
    expect(token.code, token.stderr).toBe(0);
    const metrics = await get('/metrics', { authorization: `Bearer ${token.stdout.trim()}` });
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await metrics.text());
    expect(families.find((family) => family.name === 'medallion_runs')?.metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: expect.objectContaining({ pipeline: 'jobs' }) }),
      ]),
    );

    expect(await daemon.stop()).toBe(0);
  });
});
