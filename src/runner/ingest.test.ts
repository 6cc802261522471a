import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLake, openSource, storeSettings } from '../project/locations.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { sha256OfStream, writeRandomFile } from '../storage/object-store.conformance.js';
import type { ObjectStore } from '../storage/object-store.js';
import { LakeLayout, localLake, type LakeStores } from '../table/lake-layout.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../testing/minio.js';
import { ingest } from './ingest.js';
import { standaloneContext } from './run-context.js';

const MiB = 1024 * 1024;
const server = s3ServerOrSkip('ingest on MinIO');

const pipeline: PipelineDefinition = {
  name: 'ingest_test',
  sources: [
    {
      name: 'files',
      pattern: '*.bin',
      bronzeTable: 'files',
      format: { type: 'csv', delimiter: ';', requiredColumns: [] },
    },
  ],
  tables: [],
};

let dir: string;
let engine: DuckDbEngine;
/** The source files: two large ones with the same bytes under two names, one small one. */
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-ingest-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
  const sourceDir = path.join(dir, 'source');
  await mkdir(sourceDir, { recursive: true });
  // Larger than the 4 MiB that travel in memory, and than the 5 MiB parts and ranges of the stores.
  files['large.bin'] = await writeRandomFile(path.join(sourceDir, 'large.bin'), 11 * MiB + 3);
  files['small.bin'] = await writeRandomFile(path.join(sourceDir, 'small.bin'), 1000);
  await copyFile(path.join(sourceDir, 'large.bin'), path.join(sourceDir, 'again.bin'));
  files['again.bin'] = files['large.bin'] as string;
});

afterAll(async () => {
  engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function run(source: ObjectStore, lake: LakeStores) {
  const context = standaloneContext({ pipeline, source, lake: new LakeLayout(lake), engine });
  return ingest(context);
}

/** Lands the source in `lake` twice; checks every file landed once, byte for byte, under its checksum. */
async function landsEachFileOnce(source: ObjectStore, lake: LakeStores): Promise<void> {
  const first = await run(source, lake);
  // again.bin and large.bin hold the same bytes: whichever is hashed second is skipped.
  expect(first.landed).toHaveLength(2);
  expect(first.skipped).toHaveLength(1);
  const landing = new LakeLayout(lake).landing();
  for (const entry of first.landed) {
    expect(entry.checksum).toBe(files[entry.fileName]);
    expect(await sha256OfStream(await landing.getStream(entry.landingKey))).toBe(entry.checksum);
  }
  const landedKeys = async () =>
    (await landing.list('')).map((object) => object.key).filter((key) => !key.startsWith('_'));
  // The skipped duplicate left nothing behind.
  expect((await landedKeys()).sort()).toEqual(first.landed.map((entry) => entry.landingKey).sort());

  const second = await run(source, lake);
  expect(second.landed).toEqual([]);
  expect(second.skipped).toHaveLength(3);
  expect(await landedKeys()).toHaveLength(2);
}

describe.skipIf(!server)('ingest of large files', () => {
  let settings: ReturnType<typeof storeSettings>;
  let sourceUrl: string;

  beforeAll(async () => {
    settings = storeSettings(s3EnvFor(server!, path.join(dir, 'cache')));
    settings.s3 = { partSizeBytes: 5 * MiB };
    sourceUrl = `s3://${freshBucketName('ingest-src')}/in`;
    const upload = await openLake(sourceUrl, settings);
    const sourceDir = path.join(dir, 'source');
    for (const name of Object.keys(files)) {
      await upload.store('landing').putFile(path.join(sourceDir, name), name);
    }
  });

  it('copies a large file inside one S3 server without downloading it, byte for byte, with its checksum, once', async () => {
    const lake = await openLake(`s3://${freshBucketName('ingest').slice(0, 40)}-{layer}`, settings);
    await landsEachFileOnce(await openSource(`${sourceUrl}/landing`, settings), lake);
    // The large files never reached the download cache (only the manifest's Delta files may have).
    const cached = await readdir(settings.cacheDir).catch(() => [] as string[]);
    expect(cached.filter((name) => name.endsWith('.bin'))).toEqual([]);
  });

  it('downloads a large file from S3 (hashing it on the way) to land it on local disk, byte for byte, once', async () => {
    const lake = localLake(path.join(dir, `lake-${Date.now()}`));
    await landsEachFileOnce(await openSource(`${sourceUrl}/landing`, settings), lake);
  });

  it('uploads a large file from local disk to an S3 lake, byte for byte, once', async () => {
    const lake = await openLake(`s3://${freshBucketName('ingest-up').slice(0, 40)}-{layer}`, settings);
    await landsEachFileOnce(new LocalDiskStore(path.join(dir, 'source')), lake);
  });
});

describe('two runs landing into one lake at once', () => {
  it('records each file once: the run that commits second leaves the files the first recorded to it', async () => {
    const lake = new LakeLayout(localLake(path.join(dir, `lake-race-${Date.now()}`)));
    const source = new LocalDiskStore(path.join(dir, 'source'));
    const other = await engine.connect();
    const logs: string[] = [];
    try {
      // Both read the empty manifest before either records anything, as runs of two metadata databases would.
      const [first, second] = await Promise.all([
        ingest({ ...standaloneContext({ pipeline, source, lake, engine }), log: (line) => logs.push(line) }),
        ingest({
          ...standaloneContext({ pipeline, source, lake, engine: other }),
          log: (line) => logs.push(line),
        }),
      ]);
      const landed = [...first.landed, ...second.landed];
      expect(landed.map((entry) => entry.checksum).sort()).toEqual(
        [files['large.bin'], files['small.bin']].sort(),
      );
      expect(first.skipped.length + second.skipped.length).toBe(4);
      expect(logs.join('\n')).toMatch(/the landing manifest moved on to version 0 while files were landed/);
      // One landed copy per checksum is left, the one the manifest names.
      const keys = (await lake.landing().list(''))
        .map((object) => object.key)
        .filter((key) => !key.startsWith('_'));
      expect(keys.sort()).toEqual(landed.map((entry) => entry.landingKey).sort());
      const third = await ingest(standaloneContext({ pipeline, source, lake, engine }));
      expect(third.landed).toEqual([]);
    } finally {
      other.close();
    }
  });
});
