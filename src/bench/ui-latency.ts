/**
 * The web UI's speed (issue 10): with a seeded history of 1,000 runs × 20 tasks and their logs, the p95 latency of
 * the API calls its pages make (pipelines list, grid of the last 100 runs, a run's Gantt, a table preview), over real
 * HTTP to the real server, on SQLite and on PostgreSQL when a test server is found; the time until chromium has
 * drawn the pipeline page's grid; and the UI bundle's gzipped size.
 */
import { existsSync } from 'node:fs';
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
import { generateDemoData } from '../demo-data/generate.js';
import example from '../pipelines/medallion_data_pipeline/pipeline.js';
import { runPipeline } from '../runner/run-pipeline.js';
import { lakeReaderFor } from '../server/routes/lake.js';
import { BUILT_UI_DIR } from '../server/routes/ui.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { localLake } from '../table/lake-layout.js';
import { CHROMIUM, launchBrowser } from '../testing/chromium.js';
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
  /** From navigation to the pipeline page's grid drawn, on SQLite: the first (cold) and the next ones. */
  gridDraw?: { firstMs: number; medianMs: number; worstMs: number; navigations: number };
  notMeasured: string[];
  bundle: { files: number; gzipBytes: number };
}

/** The table the preview is measured on: the example pipeline's widest gold table. */
const PREVIEW_TABLE = 'gold/active_companies_with_contracts_2022';
const SAMPLE_SCALE = 0.2;
const NAVIGATIONS = 6;

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
  options: { drawGrid: boolean },
): Promise<{ seedMs: number; calls: CallLatency[]; gridDraw?: UiBenchResult['gridDraw'] }> {
  const module = await writeBenchPipeline(dir);
  await writeFile(
    path.join(dir, 'medallion.config.json'),
    JSON.stringify({
      database: databaseUrl,
      lake: 'lake',
      source: 'source',
      pipelines: { [BENCH_PIPELINE]: { module }, medallion_data_pipeline: {} },
    }),
  );
  await generateDemoData({ scale: SAMPLE_SCALE, seed: 42, outDir: path.join(dir, 'source') });
  const store = (await openMetadataStore(databaseUrl)) as KyselyMetadataStore;
  const project = await Project.open({ cwd: dir, env: {} });
  const lakeReader = lakeReaderFor({ store, project });
  try {
    const seeding = performance.now();
    const runIds = await seedHistory(store, path.join(dir, 'lake'));
    const seedMs = performance.now() - seeding;
    log(
      `ui: ${backend}: seeded ${runIds.length} runs × ${HISTORY.tasks} tasks in ${(seedMs / 1000).toFixed(1)} s`,
    );
    const ran = await runPipeline({
      pipeline: example,
      store,
      source: new LocalDiskStore(path.join(dir, 'source')),
      lake: localLake(path.join(dir, 'lake')),
      scratchDir: path.join(dir, 'scratch'),
    });
    if (ran.status !== 'success') throw new Error(`the example pipeline failed: ${ran.error}`);
    await addUser(store, { name: 'bench', role: 'viewer', password: PASSWORD });
    const api = createApi(
      {
        store,
        project,
        authenticator: new Authenticator(store),
        secure: false,
        worker: 'bench',
        startedAt: Date.now(),
        lakeReader,
        uiDir: BUILT_UI_DIR,
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
        ['a table preview (50 rows)', `/api/lake/tables/${PREVIEW_TABLE}/rows?limit=50`],
        [
          'a table preview, sorted, page 3',
          `/api/lake/tables/${PREVIEW_TABLE}/rows?limit=50&offset=100&sort=montant_total_contrats&order=desc`,
        ],
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
      const gridDraw = options.drawGrid ? await drawGrid(server.url, cookie, log) : undefined;
      return { seedMs, calls: measured, ...(gridDraw && { gridDraw }) };
    } finally {
      server.close();
    }
  } finally {
    await lakeReader.close();
    await store.close();
  }
}

const GRID_CELL = '.run-grid [aria-label*=" in run_"]';

/**
 * Records in the page, from its navigation's start, when the grid's first cell is on screen (the frame after it
 * joined the DOM): the browser's own clock, not the test driver's polling, which looks only every 100 to 500 ms.
 * A script's text: it runs in the browser, not in Node.
 */
const RECORD_GRID_DRAWN = `(() => {
  const found = () => {
    if (!document.querySelector(${JSON.stringify(GRID_CELL)})) return false;
    requestAnimationFrame(() => { globalThis.gridDrawnAt = performance.now(); });
    return true;
  };
  const observer = new MutationObserver(() => { if (found()) observer.disconnect(); });
  document.addEventListener('DOMContentLoaded', () => {
    if (!found()) observer.observe(document.body, { childList: true, subtree: true });
  });
})();`;

/** From the navigation's start to the first cell of the pipeline page's grid on screen, in chromium, NAVIGATIONS times. */
async function drawGrid(
  url: string,
  cookie: string,
  log: (message: string) => void,
): Promise<UiBenchResult['gridDraw']> {
  const [name, value] = cookie.split('=') as [string, string];
  const browser = await launchBrowser();
  try {
    await browser.context.addCookies([{ name, value, url }]);
    await browser.context.addInitScript({ content: RECORD_GRID_DRAWN });
    const page = await browser.context.newPage();
    const times: number[] = [];
    for (let index = 0; index < NAVIGATIONS; index += 1) {
      await page.goto(`${url}/pipelines/${BENCH_PIPELINE}`);
      // Functions, not strings: the page's CSP refuses evaluating strings. Each is sent to the page alone.
      await page.waitForFunction(() => (globalThis as { gridDrawnAt?: number }).gridDrawnAt, undefined, {
        timeout: 30_000,
      });
      times.push(
        await page.evaluate(() => (globalThis as { gridDrawnAt?: number }).gridDrawnAt ?? Number.NaN),
      );
    }
    const [first = 0, ...rest] = times;
    const sorted = [...rest].sort((a, b) => a - b);
    const result = {
      firstMs: first,
      medianMs: sorted[Math.floor(sorted.length / 2)] ?? first,
      worstMs: Math.max(...times),
      navigations: times.length,
    };
    log(
      `ui: grid drawn ${result.firstMs.toFixed(0)} ms after the first navigation, ${result.medianMs.toFixed(0)} ms median after`,
    );
    return result;
  } finally {
    await browser.close();
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
    notMeasured: [],
    bundle: await bundleSize(),
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-ui-'));
  try {
    const sqliteDir = await mkdtemp(path.join(dir, 'sqlite-'));
    const sqlite = await benchBackend(
      'sqlite',
      `sqlite:${path.join(sqliteDir, 'metadata.db')}`,
      sqliteDir,
      log,
      { drawGrid: existsSync(CHROMIUM) },
    );
    if (!existsSync(CHROMIUM)) result.notMeasured.push(`grid drawing: no chromium at ${CHROMIUM}`);
    result.seedMs.sqlite = sqlite.seedMs;
    result.calls.push(...sqlite.calls);
    if (sqlite.gridDraw) result.gridDraw = sqlite.gridDraw;
    const postgres = testPostgresUrl();
    if (typeof postgres === 'string') {
      const schemas = new TestSchemas(postgres);
      const pgDir = await mkdtemp(path.join(dir, 'pg-'));
      try {
        const measured = await benchBackend('postgres', schemas.url(), pgDir, log, { drawGrid: false });
        result.seedMs.postgres = measured.seedMs;
        result.calls.push(...measured.calls);
      } finally {
        await schemas.dropAll();
      }
    } else {
      result.notMeasured.push(`PostgreSQL: ${postgres.reason}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}
