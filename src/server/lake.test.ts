/**
 * The lake through the API, in process over a real lake: the example pipeline run on sample data, then again with
 * a new file of activity codes. Tables, schema, history, rows sorted and paged, the difference between versions,
 * downloads, the object browser, and the refusal of every key that would leave the lake.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakeReader } from '../app/lake-reader.js';
import type { ObjectListing } from '../app/lake-objects.js';
import type { VersionDiff } from '../app/table-diff.js';
import type { RowsPage } from '../app/table-rows.js';
import type { LakeInfo, TableDetail, TableListing, VersionEntry } from '../app/tables.js';
import { addUser, createToken } from '../app/users.js';
import { Authenticator } from '../auth/authenticator.js';
import { openLake, storeSettings, type StoreSettings } from '../project/locations.js';
import { generateDemoData, NAF_FILE } from '../demo-data/generate.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { Project } from '../project/project.js';
import { runPipeline } from '../runner/run-pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { localLake } from '../table/lake-layout.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../testing/minio.js';
import { createApi } from './api.js';

let dir: string;
let lake: string;
let local: ProjectApi;
const runs: string[] = [];
/** Activity codes the second run brings. */
const NEW_CODES = ['99.98Z', '99.99Z'];

interface ProjectApi {
  store: MetadataStore;
  /** Where the reader makes its scratch directory. */
  scratch: string;
  get(url: string): Promise<Response>;
  /** A POST with a JSON body, as the viewer or as an operator. */
  post(url: string, body: unknown, as: 'viewer' | 'operator'): Promise<Response>;
  /** The JSON of a 200 answer. */
  read<T>(url: string): Promise<T>;
  /** The status and error of an answer that is not 200. */
  refused(url: string): Promise<{ status: number; error: string }>;
  close(): Promise<void>;
}

/** The project in `dir` with this project file, its store, and the API over them as a viewer calls it. */
async function projectApi(dir: string, config: object, settings: StoreSettings): Promise<ProjectApi> {
  await writeFile(path.join(dir, 'medallion.config.json'), JSON.stringify(config));
  const store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
  await addUser(store, { name: 'vera', role: 'viewer', password: 'a password for vera' });
  await addUser(store, { name: 'otto', role: 'operator', password: 'a password for otto' });
  const { token } = await createToken(store, { user: 'vera', name: 'test' });
  const tokens = {
    viewer: token,
    operator: (await createToken(store, { user: 'otto', name: 'test' })).token,
  };
  const scratch = path.join(dir, 'scratch');
  const reader = new LakeReader({
    openLake: (location) => openLake(location, settings),
    scratchBase: scratch,
  });
  const api = createApi(
    {
      store,
      project: await Project.open({ cwd: dir, env: {} }),
      authenticator: new Authenticator(store),
      secure: false,
      worker: 'test',
      startedAt: Date.now(),
      lakeReader: reader,
    },
    { log: (line) => console.error(line) },
  );
  const get = async (url: string): Promise<Response> =>
    api.request(`http://medallion.test${url}`, { headers: { authorization: `Bearer ${token}` } });
  return {
    store,
    scratch,
    get,
    post: async (url, body, as) =>
      api.request(`http://medallion.test${url}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[as]}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    async read<T>(url: string) {
      const response = await get(url);
      expect(response.status, `${url}: ${await response.clone().text()}`).toBe(200);
      return (await response.json()) as T;
    },
    async refused(url: string) {
      const response = await get(url);
      return { status: response.status, error: ((await response.json()) as { error: string }).error };
    },
    async close() {
      await reader.close();
      await store.close();
    },
  };
}

async function run(): Promise<void> {
  const summary = await runPipeline({
    pipeline,
    store: local.store,
    source: new LocalDiskStore(path.join(dir, 'source')),
    lake: localLake(lake),
  });
  expect(summary.status).toBe('success');
  runs.push(summary.runId);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-lake-api-'));
  lake = path.join(dir, 'lake');
  await generateDemoData({ scale: 0.02, seed: 7, outDir: path.join(dir, 'source') });
  local = await projectApi(dir, { source: 'source', lake: 'lake' }, storeSettings({}));
  await run();
}, 120_000);

afterAll(async () => {
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

const read = <T>(url: string) => local.read<T>(url);
const get = (url: string) => local.get(url);
const refused = (url: string) => local.refused(url);

const TOP = '/api/lake/tables/gold/top_100_companies';

describe('the tables of a lake', () => {
  it('lists the project’s lake, and its tables layer by layer with their version, rows and the run that made them', async () => {
    const { lakes } = await read<{ lakes: LakeInfo[] }>('/api/lakes');
    expect(lakes).toEqual([
      { index: 0, location: lake, pipelines: ['medallion_data_pipeline', 'data_quality_checks'] },
    ]);
    const listing = await read<TableListing>('/api/lake/tables');
    expect(await read<TableListing>(`/api/lake/tables?lake=${encodeURIComponent(lake)}`)).toEqual(listing);
    const names = listing.tables.map((table) => `${table.layer}.${table.table}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'landing._manifest',
        'bronze.marches_publics',
        'silver.etablissements',
        'gold.top_100_companies',
        'quarantine.silver_marches_publics',
      ]),
    );
    expect(names.filter((name) => name.startsWith('landing.'))).toEqual(['landing._manifest']);
    expect(listing.unreadable).toEqual([]);
    const top = listing.tables.find((table) => table.table === 'top_100_companies');
    expect(top).toMatchObject({ layer: 'gold', version: 0, runId: runs[0], task: 'gold.top_100_companies' });
    expect(top?.rows).toBeGreaterThan(0);
    expect(top?.bytes).toBeGreaterThan(0);
    expect(Date.parse(top?.committedAt ?? '')).toBeGreaterThan(Date.now() - 600_000);
  });

  it('describes a table’s schema and partitions, and a quarantine table’s reasons', async () => {
    const silver = await read<TableDetail>('/api/lake/tables/silver/etablissements');
    expect(silver.partitionColumns).toEqual(['etat_administratif']);
    expect(silver.columns.map((column) => column.name)).toEqual(
      expect.arrayContaining(['siret', 'etat_administratif']),
    );
    expect(silver.partitions.map((partition) => partition.values.etat_administratif).sort()).toEqual([
      'A',
      'F',
    ]);
    expect(silver.partitions.reduce((sum, partition) => sum + partition.rows, 0)).toBe(silver.rows);
    const quarantine = await read<TableDetail>('/api/lake/tables/quarantine/silver_marches_publics');
    expect(quarantine.columns.map((column) => column.name)).toContain('reason');
  });

  it('pages through a version’s rows sorted by a column, BIGINTs as numbers', async () => {
    const all = await read<RowsPage>(`${TOP}/rows?limit=500`);
    expect(all.rows).toHaveLength(all.total);
    expect(typeof all.rows[0]?.nombre_contrats).toBe('number');
    const sorted = await read<RowsPage>(`${TOP}/rows?limit=500&sort=montant_total_contrats&order=desc`);
    const amounts = sorted.rows.map((row) => row.montant_total_contrats as number);
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    const ascending = await read<RowsPage>(`${TOP}/rows?limit=1&sort=montant_total_contrats`);
    expect(ascending.rows[0]?.montant_total_contrats).toBe(amounts.at(-1));
    expect(amounts[0]).toBeGreaterThan(amounts.at(-1) ?? Infinity);
    const key = (row: Record<string, unknown>) => JSON.stringify(row);
    expect(sorted.rows.map(key).sort()).toEqual(all.rows.map(key).sort());
    // Ties (every company here has one contract) are broken the same way on every page.
    const byCount = await read<RowsPage>(`${TOP}/rows?limit=500&sort=nombre_contrats&order=desc`);
    const first = await read<RowsPage>(`${TOP}/rows?limit=7&sort=nombre_contrats&order=desc`);
    const second = await read<RowsPage>(`${TOP}/rows?offset=7&limit=7&sort=nombre_contrats&order=desc`);
    expect([...first.rows, ...second.rows]).toEqual(byCount.rows.slice(0, 14));
    expect(second).toMatchObject({ offset: 7, limit: 7, sort: 'nombre_contrats', order: 'desc' });
  });

  it('refuses a sort by anything but a column of the table, too many rows, and a version that does not exist', async () => {
    expect(await refused(`${TOP}/rows?sort=nope`)).toMatchObject({ status: 400, error: 'no column nope' });
    const injected = encodeURIComponent("siret\" DESC; COPY (SELECT 1) TO '/tmp/x.csv'; --");
    expect((await refused(`${TOP}/rows?sort=${injected}`)).status).toBe(400);
    expect((await refused(`${TOP}/rows?limit=501`)).error).toContain('query parameter limit');
    expect(await refused(`${TOP}/rows?version=99`)).toMatchObject({
      status: 404,
      error: 'gold.top_100_companies has no version 99',
    });
    expect((await refused('/api/lake/tables/gold/no_such_table')).status).toBe(404);
    expect((await refused('/api/lake/tables?lake=1')).status).toBe(404);
    expect((await refused(`/api/lake/tables?lake=${encodeURIComponent(os.tmpdir())}`)).status).toBe(404);
  });
});

describe('versions', () => {
  beforeAll(async () => {
    const naf = path.join(dir, 'source', NAF_FILE);
    const [header] = (await readFile(naf, 'utf8')).split('\n');
    const extra = naf.replace(/\.csv$/, '_extra.csv');
    await writeFile(extra, [header, ...NEW_CODES.map((code) => `${code};Activité ${code}`), ''].join('\n'));
    await run();
  }, 120_000);

  it('tells each version’s time, operation, run and the rows it added and removed', async () => {
    const bronze = await read<{ versions: VersionEntry[] }>('/api/lake/tables/bronze/codes_naf/history');
    expect(bronze.versions.map((entry) => entry.version)).toEqual([1, 0]);
    expect(bronze.versions[0]).toMatchObject({
      mode: 'Append',
      runId: runs[1],
      rowsAdded: 2,
      rowsRemoved: 0,
    });
    const silver = await read<{ versions: VersionEntry[] }>('/api/lake/tables/silver/codes_naf/history');
    const [second, first] = silver.versions;
    // An incremental table: the second run merged its two new codes, rewriting no file (none held their keys).
    expect(first).toMatchObject({ version: 0, operation: 'WRITE', mode: 'Overwrite', runId: runs[0] });
    expect(second).toMatchObject({
      version: 1,
      operation: 'MERGE',
      mode: null,
      runId: runs[1],
      task: 'silver.codes_naf',
      rowsAdded: 2,
      rowsRemoved: 0,
    });
    const latest = await read<{ versions: VersionEntry[] }>(
      '/api/lake/tables/silver/codes_naf/history?limit=1',
    );
    expect(latest.versions).toEqual([second]);
  });

  it('compares two versions: the rows one added and the other removed, counted and sampled', async () => {
    const forward = await read<VersionDiff>('/api/lake/tables/silver/codes_naf/diff?from=0&to=1');
    expect(forward.added.rows).toBe(2);
    expect(forward.added.sample.map((row) => row.code_naf).sort()).toEqual(NEW_CODES);
    expect(forward.removed).toEqual({ rows: 0, sample: [] });
    expect(forward.schemaChanges).toEqual({ added: [], removed: [] });
    const backward = await read<VersionDiff>('/api/lake/tables/silver/codes_naf/diff?from=1&to=0');
    expect(backward.removed.rows).toBe(2);
    expect(backward.added.rows).toBe(0);
    const old = await read<RowsPage>(
      '/api/lake/tables/silver/codes_naf/rows?version=0&limit=500&sort=code_naf',
    );
    expect(old.rows.map((row) => row.code_naf)).not.toContain(NEW_CODES[0]);
  });
});

describe('downloads', () => {
  it('sends a version as CSV with its rows, named after the table and version, and leaves no file behind', async () => {
    const response = await get(`${TOP}/download?format=csv&version=0`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain('filename="gold.top_100_companies.v0.csv"');
    const lines = (await response.text()).trim().split('\n');
    const { total } = await read<RowsPage>(`${TOP}/rows?limit=1`);
    expect(lines[0]).toContain('nombre_contrats');
    expect(lines).toHaveLength(total + 1);
    await expect
      .poll(async () => readdir(path.join(local.scratch, (await readdir(local.scratch))[0] ?? '')))
      .not.toContain(expect.stringMatching(/\.csv$/));
  });

  it('sends a version as Parquet that DuckDB reads', async () => {
    const response = await get(`${TOP}/download?format=parquet`);
    expect(response.status).toBe(200);
    const file = path.join(dir, 'downloaded.parquet');
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const counted = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`,
    );
    const { total } = await read<RowsPage>(`${TOP}/rows?limit=1`);
    expect(counted.getRowObjects()[0]?.n).toBe(total);
    connection.closeSync();
    instance.closeSync();
  });
});

describe('the object browser', () => {
  it('lists an area a folder at a time, and sends an object', async () => {
    const root = await read<ObjectListing>('/api/lake/objects?area=landing');
    expect(root.entries.map((entry) => entry.key)).toEqual(
      expect.arrayContaining(['_manifest/', 'codes_naf/', 'etablissements/', 'marches/']),
    );
    const paged = await read<ObjectListing>('/api/lake/objects?area=landing&offset=1&limit=1');
    expect(paged.entries).toEqual(root.entries.slice(1, 2));
    expect(paged.total).toBe(root.total);
    const [ingestion] = (await read<ObjectListing>('/api/lake/objects?area=landing&prefix=codes_naf/'))
      .entries;
    const files = await read<ObjectListing>(
      `/api/lake/objects?area=landing&prefix=${encodeURIComponent(ingestion?.key ?? '')}`,
    );
    const file = files.entries.find((entry) => entry.name === NAF_FILE);
    expect(file).toMatchObject({ kind: 'file', size: expect.any(Number) });
    const response = await get(
      `/api/lake/objects/download?area=landing&key=${encodeURIComponent(file?.key ?? '')}`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(
      await readFile(path.join(dir, 'source', NAF_FILE)),
    );
    const system = await read<ObjectListing>('/api/lake/objects?area=_medallion&prefix=runs/');
    expect(system.entries.map((entry) => entry.name)).toEqual(runs.map((id) => `${id}.json`).sort());
  });

  it('refuses keys that leave the area: .., absolute, backslashes, NUL, encoded traversal', async () => {
    const keys = [
      '../../metadata.db',
      'codes_naf/../../metadata.db',
      '/etc/passwd',
      'C:/Windows/win.ini',
      'codes_naf\\..\\..\\metadata.db',
      'codes_naf/\u0000x',
      '%2e%2e/%2e%2e/metadata.db',
      '%252e%252e%252f%252e%252e%252fmetadata.db',
      '..%5c..%5cmetadata.db',
      'codes_naf//x',
    ];
    for (const key of keys) {
      const answer = await refused(`/api/lake/objects/download?area=landing&key=${encodeURIComponent(key)}`);
      expect(answer.status, key).toBe(400);
      expect(answer.error, key).toMatch(/^key "/);
    }
    for (const prefix of ['../', '..', '/', 'codes_naf/../../', '%2e%2e/']) {
      const answer = await refused(`/api/lake/objects?area=landing&prefix=${encodeURIComponent(prefix)}`);
      expect(answer.status, prefix).toBe(400);
    }
    expect((await refused('/api/lake/objects?area=..%2F..')).status).toBe(400);
    expect((await refused('/api/lake/objects/download?area=landing&key=codes_naf/missing.csv')).status).toBe(
      404,
    );
    expect((await refused('/api/lake/tables/gold/..%2F..%2Fsilver')).status).toBe(400);
  });

  it('does not follow a symbolic link out of the lake', async () => {
    await mkdir(path.join(lake, 'landing', 'links'), { recursive: true });
    await writeFile(path.join(lake, 'landing', 'links', 'inside.txt'), 'inside');
    await symlink(path.join(dir, 'metadata.db'), path.join(lake, 'landing', 'links', 'outside.db'));
    const listing = await read<ObjectListing>('/api/lake/objects?area=landing&prefix=links/');
    expect(listing.entries.map((entry) => entry.name)).toEqual(['inside.txt']);
    expect((await refused('/api/lake/objects/download?area=landing&key=links/outside.db')).status).toBe(404);
  });
});

describe('time travel and restore', () => {
  const NAF = '/api/lake/tables/silver/codes_naf';
  const codes = async (query: string) =>
    (await read<RowsPage>(`${NAF}/rows?limit=500&sort=code_naf${query}`)).rows.map((row) => row.code_naf);

  it('reads a version as of a time: the newest committed at or before it; refuses a time before the table, or with a version', async () => {
    const [second, first] = (await read<{ versions: VersionEntry[] }>(`${NAF}/history`)).versions;
    const asOf = (entry: VersionEntry | undefined) => encodeURIComponent(entry?.committedAt ?? '');
    expect((await read<RowsPage>(`${NAF}/rows?asOf=${asOf(first)}&limit=1`)).version).toBe(0);
    const between = new Date(Date.parse(second?.committedAt ?? '') - 1).toISOString();
    expect((await read<TableDetail>(`${NAF}?asOf=${encodeURIComponent(between)}`)).version).toBe(0);
    expect((await read<TableDetail>(`${NAF}?asOf=${asOf(second)}`)).version).toBe(1);
    expect(await refused(`${NAF}?asOf=2000-01-01`)).toMatchObject({
      status: 404,
      error: 'silver.codes_naf has no version as of 2000-01-01T00:00:00.000Z',
    });
    expect(await refused(`${NAF}/rows?version=0&asOf=${asOf(second)}`)).toMatchObject({
      status: 400,
      error: 'give a version of silver.codes_naf or a time, not both',
    });
    expect((await refused(`${NAF}/rows?asOf=yesterday`)).status).toBe(400);
  });

  it('restores a table for operators only, as a new version holding the old rows; the tables that read it become stale', async () => {
    const restore = (body: unknown, as: 'viewer' | 'operator' = 'operator', url = `${NAF}/restore`) =>
      local.post(url, body, as);
    expect((await restore({ version: 0 }, 'viewer')).status).toBe(403);
    const missing = await restore({ version: 99 });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'silver.codes_naf has no version 99' });
    expect((await restore({ version: -1 })).status).toBe(400);
    expect((await restore({})).status).toBe(400);
    const manifest = await restore({ version: 0 }, 'operator', '/api/lake/tables/landing/_manifest/restore');
    expect(manifest.status).toBe(400);
    expect((await manifest.json()) as { error: string }).toMatchObject({
      error: 'landing._manifest cannot be restored: only bronze, silver, gold tables can',
    });
    expect((await read<TableDetail>(NAF)).version).toBe(1);

    const answer = await restore({ version: 0 });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      layer: 'silver',
      table: 'codes_naf',
      restoredVersion: 0,
      version: 2,
      staleReaders: ['silver.etablissements', 'gold.active_companies_with_contracts_2022'],
    });
    expect(await codes('')).toEqual(await codes('&version=0'));
    expect(await codes('')).not.toContain(NEW_CODES[0]);
    const [latest] = (await read<{ versions: VersionEntry[] }>(`${NAF}/history`)).versions;
    expect(latest).toMatchObject({ version: 2, operation: 'RESTORE', restoredVersion: 0, runId: null });

    const listing = await read<TableListing>('/api/lake/tables');
    const stale = listing.tables.filter((entry) => entry.staleInputs.length > 0);
    expect(stale.map((entry) => [`${entry.layer}.${entry.table}`, entry.staleInputs])).toEqual([
      ['silver.etablissements', ['silver.codes_naf']],
      ['gold.active_companies_with_contracts_2022', ['silver.codes_naf']],
    ]);
  });
});

const server = s3ServerOrSkip('the lake API on MinIO');

describe.skipIf(!server)('a lake on MinIO, one bucket per layer', () => {
  let s3: ProjectApi;
  let runId: string;

  beforeAll(async () => {
    const s3dir = path.join(dir, 'on-s3');
    await mkdir(s3dir);
    const settings = storeSettings(s3EnvFor(server!, path.join(s3dir, 'cache')));
    const location = `s3://${freshBucketName('lake').slice(0, 40)}-{layer}`;
    s3 = await projectApi(s3dir, { source: path.join(dir, 'source'), lake: location }, settings);
    const summary = await runPipeline({
      pipeline,
      store: s3.store,
      source: new LocalDiskStore(path.join(dir, 'source')),
      lake: await openLake(location, settings),
    });
    expect(summary.status).toBe('success');
    runId = summary.runId;
  }, 120_000);

  afterAll(async () => {
    await s3?.close();
  });

  it('lists its tables, pages through sorted rows and sends a version as CSV', async () => {
    const listing = await s3.read<TableListing>('/api/lake/tables?lake=0');
    expect(listing.tables.find((table) => table.table === 'top_100_companies')).toMatchObject({
      layer: 'gold',
      runId,
    });
    const sorted = await s3.read<RowsPage>(`${TOP}/rows?sort=montant_total_contrats&order=desc&limit=500`);
    const amounts = sorted.rows.map((row) => row.montant_total_contrats as number);
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    const csv = await (await s3.get(`${TOP}/download?format=csv`)).text();
    expect(csv.trim().split('\n')).toHaveLength(sorted.total + 1);
  });

  it('browses its objects and sends one, and refuses a key that leaves the area', async () => {
    const runsFolder = await s3.read<ObjectListing>('/api/lake/objects?area=_medallion&prefix=runs/');
    expect(runsFolder.entries.map((entry) => entry.key)).toEqual([`runs/${runId}.json`]);
    const summary = await s3.get(`/api/lake/objects/download?area=_medallion&key=runs/${runId}.json`);
    expect(((await summary.json()) as { runId: string }).runId).toBe(runId);
    const answer = await s3.refused(
      `/api/lake/objects/download?area=gold&key=${encodeURIComponent('../landing/x')}`,
    );
    expect(answer.status).toBe(400);
  });
});
