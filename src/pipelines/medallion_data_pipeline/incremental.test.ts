import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableId } from '../../core/graph.js';
import { generateDemoData } from '../../demo-data/generate.js';
import { Rng } from '../../demo-data/random.js';
import { DuckDbEngine } from '../../engine/duckdb/engine.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { LakeLayout, localLake } from '../../table/lake-layout.js';
import pipeline from './pipeline.js';

/**
 * Incremental silver, as a property: however the source files are split into successive runs (in any order,
 * republished contracts arriving before or after the first publication), silver, its quarantine and gold end up
 * as one run over all of them leaves them.
 */
const LOGICAL_DATE = '2026-11-26';
const SPLITS = [11, 23, 37];

let dir: string;
let engine: DuckDbEngine;
/** The source files, each split from the generated ones. */
let files: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-incremental-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
  const generated = path.join(dir, 'generated');
  const result = await generateDemoData({ scale: 0.05, seed: 7, outDir: generated });
  const parts = path.join(dir, 'parts');
  await mkdir(parts);
  files = [
    ...(await splitContracts(path.join(generated, result.files[0]!.name), parts, 5)),
    ...(await splitCsv(path.join(generated, result.files[1]!.name), parts, 3)),
    path.join(generated, result.files[2]!.name),
  ];
}, 60_000);

afterAll(async () => {
  engine.close();
  await rm(dir, { recursive: true, force: true });
});

/** The contracts document as `count` documents of consecutive records (republished copies come later). */
async function splitContracts(file: string, outDir: string, count: number): Promise<string[]> {
  const { marches } = JSON.parse(await readFile(file, 'utf8')) as { marches: unknown[] };
  const size = Math.ceil(marches.length / count);
  const written: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const out = path.join(outDir, `aws-marchespublics-annee-part${index}.json`);
    await writeFile(out, JSON.stringify({ marches: marches.slice(index * size, (index + 1) * size) }));
    written.push(out);
  }
  return written;
}

async function splitCsv(file: string, outDir: string, count: number): Promise<string[]> {
  const [header, ...lines] = (await readFile(file, 'utf8')).trimEnd().split('\n');
  const size = Math.ceil(lines.length / count);
  const written: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const out = path.join(outDir, `simulated_etablissements_part${index}.csv`);
    await writeFile(out, [header, ...lines.slice(index * size, (index + 1) * size)].join('\n') + '\n');
    written.push(out);
  }
  return written;
}

/** Runs the pipeline once per batch, each batch's files added to the source first; the lake. */
async function runInBatches(name: string, batches: string[][]): Promise<LakeLayout> {
  const source = path.join(dir, name, 'source');
  const lake = localLake(path.join(dir, name, 'lake'));
  await mkdir(source, { recursive: true });
  for (const batch of batches) {
    for (const file of batch) await copyFile(file, path.join(source, path.basename(file)));
    const summary = await runPipeline({
      pipeline,
      source: new LocalDiskStore(source),
      lake,
      logicalDate: LOGICAL_DATE,
    });
    expect(summary.status, `${name}: ${JSON.stringify(summary.tasks.filter((task) => task.error))}`).toBe(
      'success',
    );
  }
  return new LakeLayout(lake);
}

/**
 * Every file in one of `runs` batches, in an order and grouping drawn from the seed; the first batch holds a file
 * of each source (the pipeline's tables need all three), the others at least one file each.
 */
function randomBatches(seed: number, runs: number): string[][] {
  const rng = new Rng(seed);
  const shuffled = [...files];
  for (let index = shuffled.length - 1; index > 0; index -= 1) {
    const other = rng.int(index + 1);
    [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
  }
  const first = ['.json', 'etablissements', 'naf'].map((kind) =>
    shuffled.find((file) => path.basename(file).includes(kind))!,
  );
  const rest = shuffled.filter((file) => !first.includes(file));
  const batches: string[][] = [first, ...rest.slice(0, runs - 1).map((file) => [file])];
  for (const file of rest.slice(runs - 1)) batches[rng.int(runs)]!.push(file);
  return batches;
}

/** Rows of `a`'s table not in `b`'s and the reverse, counted as multisets, without the columns named. */
async function difference(
  a: LakeLayout,
  b: LakeLayout,
  table: TableId,
  without: string[] = [],
): Promise<number> {
  for (const [name, lake] of [
    ['a', a],
    ['b', b],
  ] as const) {
    const delta = lake.table(table);
    const snapshot = await delta.snapshot();
    if (!snapshot) throw new Error(`${name}: no ${table.layer}.${table.table}`);
    await engine.registerSnapshot(name, snapshot, delta.store, delta.root);
  }
  const columns = without.length ? `* EXCLUDE (${without.join(', ')})` : '*';
  const row = await engine.one<{ n: string }>(
    `SELECT count(*) AS n FROM ((SELECT ${columns} FROM a EXCEPT ALL SELECT ${columns} FROM b)
      UNION ALL (SELECT ${columns} FROM b EXCEPT ALL SELECT ${columns} FROM a))`,
  );
  return Number(row.n);
}

describe('incremental silver', () => {
  let whole: LakeLayout;
  beforeAll(async () => {
    whole = await runInBatches('whole', [files]);
  }, 120_000);

  for (const seed of SPLITS) {
    it(`gives the tables one run over all the files gives, however they are split into runs (seed ${seed})`, async () => {
      const batches = randomBatches(seed, 2 + (seed % 3));
      const split = await runInBatches(`split-${seed}`, batches);
      for (const table of pipeline.tables) {
        const id = { layer: table.layer, table: table.name };
        expect(await difference(split, whole, id), `${table.layer}.${table.name}`).toBe(0);
        if (table.refine) {
          // Which records, and why: the record's text holds when its file was ingested, which differs by run.
          expect(
            await difference(split, whole, split.quarantineId(id), ['run_id', 'quarantined_at', 'record']),
            `quarantine of ${table.layer}.${table.name}`,
          ).toBe(0);
        }
      }
      // Contracts arriving over several runs were merged: the table's history holds merges, not only overwrites.
      if (batches.filter((batch) => batch.some((file) => file.endsWith('.json'))).length < 2) return;
      const history = await split.table({ layer: 'silver', table: 'marches_publics' }).commits(0);
      const operations = history.flatMap((commit) =>
        commit.actions.flatMap((action) => ('commitInfo' in action ? [action.commitInfo.operation] : [])),
      );
      expect(operations).toContain('MERGE');
    }, 240_000);
  }
});
