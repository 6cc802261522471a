/**
 * The web UI's speed (issue 10): with a seeded history of 1,000 runs × 20 tasks and their logs, the p95 latency of
 * the API calls its pages make (pipelines list, grid of the last 100 runs, a run's Gantt, a table preview), over real
 * HTTP to the real server, on SQLite and on PostgreSQL when a test server is found; the time until chromium has
 * drawn the pipeline page's grid; and the UI bundle's gzipped size.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { addUser } from '../app/users.js';
import { Authenticator } from '../auth/authenticator.js';
import type { KyselyMetadataStore } from '../metadata/kysely-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { Project } from '../project/project.js';
import { createApi } from '../server/api.js';
import { listen } from '../server/http-server.js';
import { TestSchemas, testPostgresUrl } from '../testing/postgres.js';
import { BENCH_PIPELINE, HISTORY, seedHistory, writeBenchPipeline } from './ui-history.js';

export type UiBackend = 'sqlite' | 'postgres';

export const UI_TARGETS = {
  apiP95Ms: { sqlite: 50, postgres: 100 } satisfies Record<UiBackend, number>,
  gridDrawMs: 1_000,
  bundleGzipBytes: 400 * 1024,
};

const WARMUP = 10;
const CALLS = 100;
const PASSWORD = 'the benchmark password';

export interface CallLatency {
  backend: UiBackend;
  name: string;
  path: string;
  p50Ms: number;
  p95Ms: number;
  calls: number;
}

export interface UiBenchResult {
  history: typeof HISTORY;
  seedMs: Partial<Record<UiBackend, number>>;
  calls: CallLatency[];
  skipped: string[];
  bundle: { files: number; gzipBytes: number };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function timeCalls(url: string, cookie: string): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < WARMUP + CALLS; index += 1) {
    const started = performance.now();
    const response = await fetch(url, { headers: { cookie } });
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    if (index >= WARMUP) times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

async function benchBackend(
  backend: UiBackend,
  databaseUrl: string,
  dir: string,
  log: (message: string) => void,
): Promise<{ seedMs: number; calls: CallLatency[] }> {
  const module = await writeBenchPipeline(dir);
  await writeFile(
    path.join(dir, 'medallion.config.json'),
    JSON.stringify({ database: databaseUrl, lake: 'lake', pipelines: { [BENCH_PIPELINE]: { module } } }),
  );
  const store = (await openMetadataStore(databaseUrl)) as KyselyMetadataStore;
  try {
    const seeding = performance.now();
    const runIds = await seedHistory(store, path.join(dir, 'lake'));
    const seedMs = performance.now() - seeding;
    log(
      `ui: ${backend}: seeded ${runIds.length} runs × ${HISTORY.tasks} tasks in ${(seedMs / 1000).toFixed(1)} s`,
    );
    await addUser(store, { name: 'bench', role: 'viewer', password: PASSWORD });
    const api = createApi(
      {
        store,
        project: await Project.open({ cwd: dir, env: {} }),
        authenticator: new Authenticator(store),
        secure: false,
        worker: 'bench',
        startedAt: Date.now(),
      },
      { log },
    );
    const server = await listen((request) => api.fetch(request), { host: '127.0.0.1', port: 0 });
    try {
      const login = await fetch(`${server.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bench', password: PASSWORD }),
      });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const middle = runIds[Math.floor(runIds.length / 2)] ?? '';
      const calls: [string, string][] = [
        ['pipelines list', '/api/pipelines'],
        ['grid of the last 100 runs', `/api/pipelines/${BENCH_PIPELINE}/grid?limit=100`],
        ['a run with its tries (Gantt)', `/api/runs/${middle}`],
        ['a try’s log', `/api/runs/${middle}/tasks/task_7/log`],
      ];
      const measured: CallLatency[] = [];
      for (const [name, route] of calls) {
        const times = await timeCalls(`${server.url}${route}`, cookie);
        const latency = {
          backend,
          name,
          path: route,
          p50Ms: percentile(times, 50),
          p95Ms: percentile(times, 95),
          calls: times.length,
        };
        log(
          `ui: ${backend}: ${name}: p50 ${latency.p50Ms.toFixed(1)} ms, p95 ${latency.p95Ms.toFixed(1)} ms`,
        );
        measured.push(latency);
      }
      return { seedMs, calls: measured };
    } finally {
      server.close();
    }
  } finally {
    await store.close();
  }
}

async function bundleSize(): Promise<{ files: number; gzipBytes: number }> {
  const dir = path.resolve('dist/ui/assets');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => /\.(js|css)$/.test(name));
  let gzipBytes = 0;
  for (const file of files) gzipBytes += gzipSync(await readFile(path.join(dir, file))).length;
  return { files: files.length, gzipBytes };
}

export async function benchUi(log: (message: string) => void): Promise<UiBenchResult> {
  const result: UiBenchResult = {
    history: HISTORY,
    seedMs: {},
    calls: [],
    skipped: [],
    bundle: await bundleSize(),
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-ui-'));
  try {
    const sqlite = await benchBackend(
      'sqlite',
      `sqlite:${path.join(dir, 'sqlite', 'metadata.db')}`,
      path.join(dir),
      log,
    );
    result.seedMs.sqlite = sqlite.seedMs;
    result.calls.push(...sqlite.calls);
    const postgres = testPostgresUrl();
    if (typeof postgres === 'string') {
      const schemas = new TestSchemas(postgres);
      const pgDir = await mkdtemp(path.join(dir, 'pg-'));
      try {
        const measured = await benchBackend('postgres', schemas.url(), pgDir, log);
        result.seedMs.postgres = measured.seedMs;
        result.calls.push(...measured.calls);
      } finally {
        await schemas.dropAll();
      }
    } else {
      result.skipped.push(`PostgreSQL: ${postgres.reason}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}
