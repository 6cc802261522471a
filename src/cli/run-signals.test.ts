/**
 * Runs end cleanly: `medallion run` stopped by SIGINT or SIGTERM, cancelled from another terminal, killed outright,
 * or reading a pipe that closes. Real processes from the build, each with its own temp directory (TMPDIR) so that
 * its scratch directories can be looked at.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../metadata/metadata-store.js';
import type { RunSummary } from '../runner/run-summary.js';
import { medallion } from '../testing/medallion-cli.js';
import {
  signal,
  startMedallionProcess,
  waitFor,
  writePipelineModule,
  type SchedulerProcess,
} from '../testing/scheduler-process.js';
import { processWorkspaces, type Workspace } from '../testing/workspace.js';

const { workspace } = processWorkspaces();

interface Space extends Workspace {
  /** The TMPDIR of the processes: their scratch directories are made here. */
  tmp: string;
  args: string[];
}

/**
 * items: a CSV source, a silver table, gold.busy (with `--param busy=true`, a DuckDB query far too long to finish)
 * and gold.after, which depends on it.
 */
async function space(label: string): Promise<Space> {
  const base = await workspace(label);
  const { dir } = base;
  const pipeline = await writePipelineModule(
    path.join(dir, 'items.mjs'),
    `
export default definePipeline({
  name: 'items',
  params: { busy: { type: 'boolean', default: false } },
  sources: [{ name: 'items', pattern: 'items-*.csv', bronzeTable: 'items',
    format: { type: 'csv', delimiter: ',', requiredColumns: ['id'] } }],
  tables: [
    { name: 'items', layer: 'silver', sql: ({ ref }) => \`SELECT id FROM \${ref('bronze', 'items')}\` },
    { name: 'busy', layer: 'gold', sql: ({ ref, param }) => \`
      SELECT (SELECT count(*) FROM \${ref('silver', 'items')}) AS items,
        (SELECT count(*) FROM range(CASE WHEN \${param('busy')} THEN 100000000000 ELSE 10 END) t(i) WHERE i % 7 = 3) AS n\` },
    { name: 'after', layer: 'gold', sql: ({ ref }) => \`SELECT * FROM \${ref('gold', 'busy')}\` },
  ],
});
`,
  );
  const source = path.join(dir, 'source');
  await mkdir(source);
  await writeFile(path.join(source, 'items-1.csv'), 'id\na\nb\n');
  const tmp = path.join(dir, 'tmp');
  await mkdir(tmp);
  const args = [
    '--pipeline',
    pipeline,
    '--db',
    base.db,
    '--lake',
    path.join(dir, 'lake'),
    '--source',
    source,
  ];
  return { ...base, tmp, args };
}

function startRun(s: Space, ...extra: string[]): SchedulerProcess {
  return startMedallionProcess(['run', ...s.args, ...extra], { env: { TMPDIR: s.tmp } });
}

/** The run's id, once the process has announced it, and once its busy task runs its query. */
async function busyRun(s: Space, run: SchedulerProcess): Promise<string> {
  const runId = await waitFor(async () => /▶ items (run_\S+):/.exec(run.output())?.[1], {
    what: 'the run to start',
    detail: () => run.output(),
  });
  await waitFor(async () => (await s.store.getTaskInstance(runId, 'gold.busy'))?.state === 'running', {
    what: 'gold.busy to be running',
    detail: () => run.output(),
  });
  // Into its query: DuckDB is counting.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return runId;
}

async function scratchDirs(s: Space): Promise<string[]> {
  return (await readdir(s.tmp)).filter((name) => name.startsWith('medallion-run_'));
}

describe('medallion run stopped by a signal', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'on %s interrupts the running query, fails its try as interrupted, cancels the rest, prints the summary, removes its scratch directory and exits %i within 5 s',
    async (name, code) => {
      const s = await space(`signal-${name.toLowerCase()}`);
      const run = startRun(s, '--param', 'busy=true');
      const runId = await busyRun(s, run);
      expect(await scratchDirs(s)).toEqual([`medallion-${runId}`]);
      const sent = Date.now();
      signal(run, name);
      const exit = await run.exited;
      expect(Date.now() - sent).toBeLessThan(5_000);
      expect(exit.code, run.output()).toBe(code);

      expect(await s.store.getRun(runId)).toMatchObject<Partial<RunRecord>>({
        state: 'failed',
        stop: expect.objectContaining({ state: 'failed', reason: `interrupted (${name})` }),
      });
      expect(await s.store.listAttempts(runId, 'gold.busy')).toMatchObject([
        { attempt: 1, state: 'failed', reason: `interrupted (${name})` },
      ]);
      const states = Object.fromEntries(
        (await s.store.listTaskInstances(runId)).map((task) => [task.taskId, task.state]),
      );
      expect(states).toMatchObject({
        ingest: 'success',
        'silver.items': 'success',
        'gold.busy': 'failed',
        'gold.after': 'cancelled',
      });
      // What was done is printed; nothing of the run is left in the temp directory.
      expect(run.stdout()).toMatch(/items run_\S+: FAILED in/);
      expect(run.stdout()).toContain(`error: interrupted (${name})`);
      expect(await scratchDirs(s)).toEqual([]);
    },
  );

  it('a pipe closed by its reader (`medallion run | head`) does not fail the run', async () => {
    const s = await space('epipe');
    const run = startMedallionProcess(['run', ...s.args, '--json'], { env: { TMPDIR: s.tmp } });
    // The reader goes away before the summary is written.
    run.closeStdout();
    const exit = await run.exited;
    expect(exit.code, run.output()).toBe(0);
    const [only] = await s.store.listRuns();
    expect(only?.state).toBe('success');
  });
});

describe('a run whose process is gone', () => {
  it('is ended as failed (abandoned) by the next medallion run, which also removes its scratch directory', async () => {
    const s = await space('abandoned');
    const first = startRun(s, '--param', 'busy=true');
    const deadRun = await busyRun(s, first);
    signal(first, 'SIGKILL');
    await first.exited;
    expect(await scratchDirs(s)).toEqual([`medallion-${deadRun}`]);
    expect((await s.store.getRun(deadRun))?.state).toBe('running');

    const next = await medallion(['run', ...s.args, '--json'], { TMPDIR: s.tmp });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(new RegExp(`✘ items ${deadRun} ended as failed: abandoned`));
    const dead = await s.store.getRun(deadRun);
    expect(dead?.state).toBe('failed');
    expect(dead?.stop?.reason).toMatch(/^abandoned: the process that ran it, \S+ is gone/);
    expect(await s.store.listAttempts(deadRun, 'gold.busy')).toMatchObject([
      { state: 'failed', reason: expect.stringMatching(/^abandoned/) },
    ]);
    expect(await scratchDirs(s)).toEqual([]);
    const summary = JSON.parse(next.stdout) as RunSummary;
    expect(summary.status).toBe('success');
  });
});

describe('medallion cancel', () => {
  it('stops a run where it runs: its running try is interrupted, the rest never starts, the run ends cancelled', async () => {
    const s = await space('cancel');
    const run = startRun(s, '--param', 'busy=true');
    const runId = await busyRun(s, run);
    const cancelled = await medallion(['cancel', runId, '--db', s.db, '--wait', '--poll-ms', '100']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(new RegExp(`${runId} cancelled: cancelled by \\S+@\\S+`));
    expect((await run.exited).code, run.output()).toBe(1);
    expect(run.stdout()).toMatch(/items run_\S+: CANCELLED in/);
    expect(await s.store.listAttempts(runId, 'gold.busy')).toMatchObject([
      { state: 'failed', reason: expect.stringMatching(/^cancelled by /) },
    ]);
    expect((await s.store.getTaskInstance(runId, 'gold.after'))?.state).toBe('cancelled');
    expect((await s.store.getTaskInstance(runId, 'gold.busy'))?.state).toBe('cancelled');
    // Cancelling what has finished says so and changes nothing.
    const again = await medallion(['cancel', runId, '--db', s.db]);
    expect(again).toMatchObject({ code: 0, stdout: `${runId} has already finished: cancelled\n` });
    expect(existsSync(path.join(s.tmp, `medallion-${runId}`))).toBe(false);
  });
});

describe('trigger --wait with no scheduler alive', () => {
  it('says so within 2 s, naming how to run the pipeline, and goes on waiting', async () => {
    const s = await space('no-scheduler');
    const waiting = startMedallionProcess(['trigger', 'items', ...s.args, '--wait']);
    await waitFor(async () => waiting.output().includes('no scheduler has ever run items on this database'), {
      what: 'trigger --wait to say that no scheduler runs the pipeline',
      timeoutMs: 2_000,
      intervalMs: 20,
      detail: () => waiting.output(),
    });
    expect(waiting.output()).toContain('start one with `medallion scheduler` or use `medallion run`');
    expect(waiting.done).toBe(false);
  });
});
