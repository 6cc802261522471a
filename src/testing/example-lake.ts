/**
 * What the query tests share: the shipped example pipeline's lake on sample data, with a second version of some
 * tables; a fingerprint of every file under a directory, to show that nothing was written or changed; a column of
 * a Parquet file read back.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type Json } from '@duckdb/node-api';
import { expect } from 'vitest';
import { generateDemoData, NAF_FILE } from '../demo-data/generate.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import type { Layer } from '../core/pipeline.js';
import { runPipeline } from '../runner/run-pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { LakeLayout, type LakeStores } from '../table/lake-layout.js';

/** Activity codes the second run brings (silver.codes_naf version 1 has them, version 0 not). */
export const NEW_NAF_CODES = ['99.98Z', '99.99Z'];

/** Sample data in `source`, run through the example pipeline into `lake`. */
export async function exampleLake(source: string, lake: LakeStores): Promise<void> {
  await generateDemoData({ scale: 0.02, seed: 7, outDir: source });
  await runExample(source, lake);
}

/** A new file of activity codes in `source`, and the pipeline run again: new versions of the tables it changes. */
export async function addNafCodes(source: string, lake: LakeStores): Promise<void> {
  const naf = path.join(source, NAF_FILE);
  const [header] = (await readFile(naf, 'utf8')).split('\n');
  const extra = naf.replace(/\.csv$/, '_extra.csv');
  await writeFile(extra, [header, ...NEW_NAF_CODES.map((code) => `${code};Activité ${code}`), ''].join('\n'));
  await runExample(source, lake);
}

async function runExample(source: string, lake: LakeStores): Promise<void> {
  const summary = await runPipeline({ pipeline, source: new LocalDiskStore(source), lake });
  expect(summary.status, summary.error).toBe('success');
}

/** Every file under `dir` (recursively) with its size and modification time. */
export async function filesUnder(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const info = await stat(file);
    files.set(file, `${info.size}@${info.mtimeMs}`);
  }
  return files;
}

/** A column of a Parquet file, as DuckDB reads it. */
export async function parquetColumn(file: string, column: string): Promise<Json[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const read = await connection.runAndReadAll(`SELECT "${column}" AS value FROM read_parquet('${file}')`);
    return read.getRowObjectsJson().map((row) => row.value ?? null);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Each table (`layer.table`) with its latest version, as a query says what it read: `gold.x v3`. */
export async function latestVersions(lake: LakeStores, names: readonly string[]): Promise<string[]> {
  const layout = new LakeLayout(lake);
  return Promise.all(
    names.map(async (name) => {
      const [layer, table] = name.split('.') as [Layer, string];
      return `${name} v${(await layout.table({ layer, table }).snapshot())?.version}`;
    }),
  );
}
