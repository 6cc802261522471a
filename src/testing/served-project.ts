/**
 * A project with the example pipeline served by a real `medallion serve` process, and signing in to it through the
 * page's form: for the browser tests and `npm run screenshots` (so no test framework here).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { generateDemoData } from '../demo-data/generate.js';
import { SHIPPED_PIPELINES } from '../project/pipelines.js';
import { medallion, MEDALLION_CLI } from './medallion-cli.js';
import {
  startMedallionProcess,
  waitFor,
  writePipelineModule,
  type SchedulerProcess,
} from './scheduler-process.js';

export interface ServedProject {
  dir: string;
  url: string;
  db: string;
  process: SchedulerProcess;
  /** The password of every user made by `addUser` (and of admin). */
  password: string;
  addUser(name: string, role: 'viewer' | 'operator' | 'admin'): Promise<void>;
  stop(): Promise<void>;
}

export const PASSWORD = 'a browser test password';

/**
 * A project with the example pipeline (sample data at `scale`, run once unless `run` is false) served by
 * `medallion serve` on a free port, its admin `admin` with PASSWORD. `modules` adds pipelines of the project's own
 * beside the shipped ones: name → the module's body after its `definePipeline` import. `config` adds to the project
 * file (`scheduler: { queues: ['default'] }`, say).
 */
export async function serveProject(
  options: {
    scale?: number;
    run?: boolean;
    modules?: Record<string, string>;
    config?: Record<string, unknown>;
  } = {},
): Promise<ServedProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-ui-'));
  await generateDemoData({ scale: options.scale ?? 0.02, seed: 7, outDir: path.join(dir, 'source') });
  await writeFile(
    path.join(dir, 'medallion.config.json'),
    JSON.stringify({
      database: 'sqlite:metadata.db',
      source: 'source',
      lake: 'lake',
      ...(options.modules && { pipelines: await projectPipelines(dir, options.modules) }),
      ...options.config,
    }),
  );
  const db = `sqlite:${path.join(dir, 'metadata.db')}`;
  if (options.run !== false) {
    const ran = await medallion(['run', '--json'], {}, { cwd: dir });
    if (ran.code !== 0) throw new Error(`the example pipeline failed:\n${ran.stderr}`);
  }
  const served = startMedallionProcess(['serve', '--port', '0', '--poll-ms', '200'], {
    cwd: dir,
    env: { MEDALLION_ADMIN_PASSWORD: PASSWORD },
  });
  const url = await waitFor(
    async () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(served.output())?.[1],
    {
      what: 'medallion serve to listen',
      timeoutMs: 30_000,
      detail: () => served.output(),
    },
  );
  return {
    dir,
    url,
    db,
    process: served,
    password: PASSWORD,
    async addUser(name, role) {
      const added = spawnSync(
        process.execPath,
        [MEDALLION_CLI, 'users', 'add', name, '--role', role, '--password-stdin', '--db', db],
        { input: `${PASSWORD}\n`, encoding: 'utf8' },
      );
      if (added.status !== 0) throw new Error(`users add ${name}: ${added.stderr}`);
    },
    async stop() {
      if (!served.done) {
        process.kill(served.pid, 'SIGTERM');
        await served.exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The project file's `pipelines`: the shipped ones, and each module written beside it. */
async function projectPipelines(
  dir: string,
  modules: Record<string, string>,
): Promise<Record<string, { module?: string }>> {
  const entries: Record<string, { module?: string }> = Object.fromEntries(
    Object.keys(SHIPPED_PIPELINES).map((name) => [name, {}]),
  );
  for (const [name, body] of Object.entries(modules)) {
    await writePipelineModule(path.join(dir, `${name}.mjs`), body);
    entries[name] = { module: `${name}.mjs` };
  }
  return entries;
}

/** Signs in through the page's form and waits for the pipelines page. */
export async function signIn(page: Page, url: string, name = 'admin', password = PASSWORD): Promise<void> {
  await page.goto(url);
  await page.getByLabel('User').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Pipelines' }).waitFor();
}
