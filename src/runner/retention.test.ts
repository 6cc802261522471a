import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionPolicy } from '../core/retention.js';
import { CONTRACTS_FILE, generateDemoData } from '../demo-data/generate.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import dataPipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { openLake, storeSettings } from '../project/locations.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import type { DeltaTable } from '../table/delta-table.js';
import { LakeLayout, localLake, type LakeArea, type LakeStores } from '../table/lake-layout.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../testing/minio.js';
import { ingest } from './ingest.js';
import { currentFiles } from './landing-manifest.js';
import { applyRetention, type RetentionResult } from './retention.js';
import { runPipeline } from './run-pipeline.js';
import { standaloneContext } from './run-context.js';

const HOUR = 3_600_000;
const server = s3ServerOrSkip('retention on MinIO');

interface Backend {
  name: string;
  open(dir: string): Promise<LakeStores>;
}

const backends: Backend[] = [
  { name: 'a local lake', open: async (dir) => localLake(path.join(dir, 'lake')) },
  ...(server
    ? [
        {
          name: 'a lake on MinIO',
          open: (dir: string) =>
            openLake(
              `s3://${freshBucketName('retention')}/lake`,
              storeSettings(s3EnvFor(server, path.join(dir, 'cache'))),
            ),
        },
      ]
    : []),
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One version of a table as it was: the keys of its files and a digest of its rows (DuckDB's). */
interface VersionState {
  table: DeltaTable;
  version: number;
  timestamp: number;
  files: string[];
  rows: string;
}

async function rowsDigest(engine: DuckDbEngine, table: DeltaTable, version: number): Promise<string> {
  const snapshot = await table.snapshot(version);
  if (!snapshot) throw new Error(`${table.root}: no version ${version}`);
  await engine.registerSnapshot('version_rows', snapshot, table.store, table.root);
  const { n, digest } = await engine.one<{ n: string; digest: string | null }>(
    `SELECT count(*)::VARCHAR AS n,
            md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR))) AS digest
     FROM version_rows t`,
  );
  return `${n} rows, ${digest}`;
}

/** Every version of every Delta table of the lake (the landing manifest included). */
async function lakeVersions(engine: DuckDbEngine, lake: LakeLayout): Promise<VersionState[]> {
  const tables = [lake.manifest()];
  for (const area of ['bronze', 'silver', 'gold', 'quarantine'] as const)
    tables.push(...(await lake.tablesIn(area)));
  const states: VersionState[] = [];
  for (const table of tables) {
    for (const version of await table.versions()) {
      const snapshot = (await table.snapshot(version))!;
      states.push({
        table,
        version,
        timestamp: snapshot.timestamp,
        files: snapshot.files.map((file) => `${table.root}/${decodeURIComponent(file.path)}`),
        rows: await rowsDigest(engine, table, version),
      });
    }
  }
  return states;
}

async function keysIn(lake: LakeLayout, area: LakeArea): Promise<Set<string>> {
  return new Set((await lake.stores.store(area).list('')).map((object) => object.key));
}

function layer(result: RetentionResult, area: LakeArea) {
  return result.report.perLayer.find((entry) => entry.layer === area)!;
}

describe.each(backends)('retention on $name', ({ open }) => {
  let dir: string;
  let engine: DuckDbEngine;
  let lake: LakeLayout;
  let source: LocalDiskStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-retention-'));
    engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
    source = new LocalDiskStore(path.join(dir, 'source'));
    await generateDemoData({ scale: 0.02, seed: 5, outDir: source.location });
    const stores = await open(dir);
    lake = new LakeLayout(stores);
    // Twice, the second rebuilding every table: silver and gold get a second version, the first one's files only
    // it needs.
    for (const force of [false, true]) {
      const run = await runPipeline({
        pipeline: dataPipeline,
        source,
        lake: stores,
        force,
        fullRefresh: force,
      });
      expect(run.status).toBe('success');
    }
  });
  afterAll(() => engine?.close());

  it('keeps every version in the window reading the same rows, removes what only older versions and crashed tries needed, and never a copy bronze has not loaded or rejected; the next run lands nothing twice', async () => {
    // The versions' window starts here: a third run (rebuilding) writes versions after it, so the second run's stay
    // what a reader at its start saw.
    await sleep(1100);
    const versionsFrom = Date.now();
    await sleep(1100);
    const third = await runPipeline({
      pipeline: dataPipeline,
      source,
      lake: lake.stores,
      force: true,
      fullRefresh: true,
    });
    expect(third.status).toBe('success');

    // A truncated contracts file: bronze rejects it, and its copy is what a fixed rerun (--retry-rejected) reads.
    const json = await readFile(path.join(source.location, CONTRACTS_FILE), 'utf8');
    await writeFile(path.join(source.location, 'aws-marchespublics-annee-2021.json'), json.slice(0, 5000));
    const rejecting = await runPipeline({ pipeline: dataPipeline, source, lake: lake.stores });
    expect(rejecting.tasks.find((task) => task.status === 'failed')?.id).toBe('bronze.marches_publics');

    // A new contracts file lands, but bronze has not read it yet.
    await generateDemoData({ scale: 0.01, seed: 9, outDir: path.join(dir, 'more') });
    await copyFile(
      path.join(dir, 'more', CONTRACTS_FILE),
      path.join(source.location, 'aws-marchespublics-annee-2023.json'),
    );
    const context = standaloneContext({ pipeline: dataPipeline, source, lake, engine });
    expect((await ingest(context)).landed.map((entry) => entry.fileName)).toEqual([
      'aws-marchespublics-annee-2023.json',
    ]);
    // What crashed tries left: a data file staged but never committed, a landed copy never recorded.
    const silver = lake.table({ layer: 'silver', table: 'etablissements' });
    const crashed = {
      data: `${silver.root}/part-crashed-old.parquet`,
      copy: 'etablissements/20240101T000000Z-0123456789ab/simulated_etablissements_50000.csv',
    };
    await silver.store.put(crashed.data, 'staged, never committed');
    await lake.landing().put(crashed.copy, 'landed, never recorded');
    const before = await lakeVersions(engine, lake);

    // The landing and leftovers windows start here: what was written before is older than them.
    await sleep(1100);
    const windowStart = Date.now();
    await sleep(1100);
    const young = {
      data: `${silver.root}/part-being-staged.parquet`,
      copy: 'etablissements/20240101T000000Z-ba9876543210/simulated_etablissements_50000.csv',
    };
    await silver.store.put(young.data, 'a writer is about to commit this');
    await lake.landing().put(young.copy, 'an ingest is about to record this');

    const now = windowStart + HOUR;
    const versions = `${Math.floor((now - versionsFrom) / 1000)}s`;
    const policy = retentionPolicy({ landing: '1h', versions, leftovers: '1h', quarantine: '90d' });
    const options = { now: new Date(now), runId: 'run_retention_test' };
    const landingBefore = await keysIn(lake, 'landing');
    const dry = await applyRetention(lake, policy, { ...options, dryRun: true });
    expect(await keysIn(lake, 'landing')).toEqual(landingBefore);
    const applied = await applyRetention(lake, policy, options);
    expect({ ...applied.report, dryRun: true }).toEqual(dry.report);
    expect(applied.deleted).toEqual(dry.deleted);

    // Landing: the three loaded copies and the unrecorded one; the copies bronze has not read or rejected stay.
    expect(layer(applied, 'landing')).toMatchObject({ landedCopies: 3, unrecordedCopies: 1 });
    const files = await currentFiles(context);
    expect(files.map((file) => file.status).sort()).toEqual([
      'expired',
      'expired',
      'expired',
      'landed',
      'rejected',
    ]);
    const landing = await keysIn(lake, 'landing');
    for (const file of files) expect(landing.has(file.landingKey)).toBe(file.status !== 'expired');
    expect(landing.has(crashed.copy)).toBe(false);
    expect(landing.has(young.copy)).toBe(true);

    // Tables: every version in the window reads the same rows from files all still there.
    const silverKeys = await keysIn(lake, 'silver');
    expect(silverKeys.has(crashed.data)).toBe(false);
    expect(silverKeys.has(young.data)).toBe(true);
    expect(layer(applied, 'silver').dataFiles).toBeGreaterThan(1);
    expect(layer(applied, 'gold').dataFiles).toBeGreaterThan(0);
    expect(layer(applied, 'quarantine').dataFiles).toBe(0);
    const stores = new Map<string, Set<string>>();
    let expiredVersions = 0;
    let travelledTo = 0;
    for (const state of before) {
      const location = state.table.store.location;
      if (!stores.has(location))
        stores.set(location, new Set((await state.table.store.list('')).map((o) => o.key)));
      const present = stores.get(location)!;
      const newer = before.filter(
        (other) => other.table.location === state.table.location && other.version > state.version,
      );
      // Retained: in the window (quarantine: 90 days), or the version a reader saw when the window started.
      const cutoff = now - policy.versions.ms;
      const retained =
        state.table.store === lake.stores.store('quarantine') ||
        state.timestamp > cutoff ||
        !newer.some((other) => other.timestamp <= cutoff);
      if (retained) {
        if (newer.length > 0) travelledTo += 1;
        expect(
          state.files.filter((key) => !present.has(key)),
          `${state.table.location}@${state.version}`,
        ).toEqual([]);
        expect(await rowsDigest(engine, state.table, state.version)).toBe(state.rows);
      } else if (state.files.some((key) => !present.has(key))) {
        expiredVersions += 1;
      }
    }
    // Silver's and gold's first versions are gone; their second versions, no longer current, still read.
    expect(expiredVersions).toBeGreaterThanOrEqual(8);
    expect(travelledTo).toBeGreaterThanOrEqual(8);

    // The next run lands nothing again, loads the waiting file once, and bronze holds every file's rows once.
    const next = await runPipeline({ pipeline: dataPipeline, source, lake: lake.stores });
    expect(next.status).toBe('success');
    expect(next.ingest.landed).toEqual([]);
    expect(next.ingest.skipped).toHaveLength(5);
    const contracts = next.tables.find(
      (table) => table.layer === 'bronze' && table.table === 'marches_publics',
    );
    expect(contracts?.rowsWritten).toBeGreaterThan(0);
    const loaded = await currentFiles(context);
    expect(loaded.map((file) => file.status).sort()).toEqual([
      'expired',
      'expired',
      'expired',
      'loaded',
      'rejected',
    ]);
    for (const table of await lake.tablesIn('bronze')) {
      await engine.registerSnapshot('bronze_rows', (await table.snapshot())!, table.store, table.root);
      const counts = await engine.one<{ n: string; once: string; files: string }>(
        `SELECT count(*)::VARCHAR AS n, count(DISTINCT (_source_checksum, _row_number))::VARCHAR AS once,
                string_agg(DISTINCT _source_checksum, ',' ORDER BY _source_checksum) AS files
         FROM bronze_rows`,
      );
      expect(counts.n, table.root).toBe(counts.once);
      const fed = dataPipeline.sources.find((candidate) => candidate.bronzeTable === table.root)?.name;
      const checksums = loaded
        .filter((file) => file.source === fed && file.status !== 'rejected')
        .map((file) => file.checksum);
      expect(counts.files, table.root).toBe(checksums.sort().join(','));
    }
  });
});
