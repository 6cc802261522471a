import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData } from '../../demo-data/generate.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import type { RunSummary } from '../../runner/run-summary.js';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { localLake } from '../../table/lake-layout.js';
import { compareLakeTables } from '../../testing/delta-tables.js';
import { medallion } from '../../testing/medallion-cli.js';
import { sparkServerOrSkip } from '../../testing/spark.js';
import pipeline from './pipeline.js';

const server = sparkServerOrSkip('pipeline on Spark');

describe.skipIf(!server)('medallion_data_pipeline with its silver and gold tables on Spark', () => {
  let dir: string;
  let duckdb: RunSummary;
  let spark: { code: number; stdout: string; stderr: string };
  let source: string;
  const runOnSpark = () =>
    // As a user runs it: the command, its engine chosen for this run, the Spark server from the environment.
    medallion(
      [
        'run',
        '--source',
        source,
        '--lake',
        path.join(dir, 'spark-lake'),
        '--engine',
        'spark',
        '--logical-date',
        '2026-11-26',
        '--json',
      ],
      { MEDALLION_SPARK_REMOTE: server!.remote, TMPDIR: dir },
      { cwd: dir },
    );
  const runOnDuckDb = () =>
    runPipeline({
      pipeline,
      logicalDate: '2026-11-26',
      source: new LocalDiskStore(source),
      lake: localLake(path.join(dir, 'duckdb-lake')),
    });
  const compareLakes = async () => {
    const tables = pipeline.tables.map((table) => ({ layer: table.layer, table: table.name }));
    const compared = await compareLakeTables(
      path.join(dir, 'compare'),
      tables,
      localLake(path.join(dir, 'duckdb-lake')),
      localLake(path.join(dir, 'spark-lake')),
    );
    for (const { table, rows, different } of compared) {
      expect(different, table).toBe(0);
      expect(rows, table).toBeGreaterThan(0);
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-on-spark-'));
    source = path.join(dir, 'source');
    await generateDemoData({ scale: 0.1, seed: 21, outDir: source });
    duckdb = await runOnDuckDb();
    spark = await runOnSpark();
  }, 600_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs with `medallion run --engine spark` and gives the same headline and row counts as DuckDB', () => {
    expect(spark.stderr).not.toMatch(/failed/);
    expect(spark.code).toBe(0);
    const summary = JSON.parse(spark.stdout) as RunSummary;
    expect(summary.status).toBe('success');
    expect(summary.headline).toEqual(duckdb.headline);
    const rows = (of: RunSummary) => of.tables.map((table) => [table.layer, table.table, table.rows]);
    expect(rows(summary)).toEqual(rows(duckdb));
  });

  it('writes silver and gold tables equal, row for row, to those DuckDB writes (totals to the cent)', async () => {
    await compareLakes();
  });

  it('merges a file of republished contracts into the incremental silver tables as DuckDB does', async () => {
    // Every 7th contract published again later, with a revised amount: each replaces the first publication.
    const { marches } = JSON.parse(
      await readFile(path.join(source, 'aws-marchespublics-annee-2022.json'), 'utf8'),
    ) as { marches: Record<string, unknown>[] };
    const republished = marches
      .filter((_, index) => index % 7 === 0)
      .map((record) => ({ ...record, datePublicationDonnees: '2024-06-30', montant: '1234.56' }));
    await writeFile(
      path.join(source, 'aws-marchespublics-annee-2024.json'),
      JSON.stringify({ marches: republished }),
    );
    const again = await runOnDuckDb();
    const onSpark = await runOnSpark();
    expect(onSpark.code, onSpark.stderr).toBe(0);
    const merged = (summary: RunSummary) =>
      summary.tables.find((table) => table.table === 'marches_publics' && table.layer === 'silver');
    expect(merged(again)?.refresh).toEqual({ kind: 'increment' });
    expect(merged(JSON.parse(onSpark.stdout) as RunSummary)?.refresh).toEqual({ kind: 'increment' });
    expect(merged(again)?.accounting?.replaced).toBeGreaterThan(0);
    await compareLakes();
  }, 600_000);
});
