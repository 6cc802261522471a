/**
 * A restore of an incremental silver table of the shipped pipeline, against the runs that follow it: the restored
 * version's marks (the input versions it consumed) come back with it, the next run keeps it while nothing new
 * arrives and rebuilds what reads it, and when new contracts arrive the table is rebuilt as one run over all the
 * files would leave it — never merged on top of rows the restore took away.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARK_FIELDS } from '../core/increments.js';
import { CONTRACTS_FILE, ESTABLISHMENTS_FILE, generateDemoData, NAF_FILE } from '../demo-data/generate.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { Project } from '../project/project.js';
import { runPipeline } from '../runner/run-pipeline.js';
import type { RunSummary } from '../runner/run-summary.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { commitInfoOf } from '../table/restore.js';
import { compareLakeTables } from '../testing/delta-tables.js';
import { LakeReader } from './lake-reader.js';
import { restoreTable } from './table-restore.js';

const LOGICAL_DATE = '2026-11-26';
const SILVER = { layer: 'silver', table: 'marches_publics' } as const;

let dir: string;
let store: MetadataStore;
let reader: LakeReader;
/** The contracts, in three files published one run after the other. */
let parts: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-restore-incremental-'));
  store = await openMetadataStore(':memory:');
  reader = new LakeReader({ openLake: async (location) => localLake(location), scratchBase: dir });
  const generated = path.join(dir, 'generated');
  await generateDemoData({ scale: 0.02, seed: 11, outDir: generated });
  const { marches } = JSON.parse(await readFile(path.join(generated, CONTRACTS_FILE), 'utf8')) as {
    marches: unknown[];
  };
  const size = Math.ceil(marches.length / 3);
  parts = [];
  for (let index = 0; index < 3; index += 1) {
    const part = path.join(generated, `aws-marchespublics-annee-part${index}.json`);
    await writeFile(part, JSON.stringify({ marches: marches.slice(index * size, (index + 1) * size) }));
    parts.push(part);
  }
  await rm(path.join(generated, CONTRACTS_FILE));
}, 60_000);

afterAll(async () => {
  await reader?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A lake whose source gets these files, then a run. */
async function lakeNamed(name: string) {
  const source = path.join(dir, name, 'source');
  const location = path.join(dir, name, 'lake');
  await mkdir(source, { recursive: true });
  return {
    location,
    layout: new LakeLayout(localLake(location)),
    async run(...files: string[]): Promise<RunSummary> {
      for (const file of files) await copyFile(file, path.join(source, path.basename(file)));
      const summary = await runPipeline({
        pipeline,
        store,
        source: new LocalDiskStore(source),
        lake: localLake(location),
        logicalDate: LOGICAL_DATE,
      });
      expect(summary.status).toBe('success');
      return summary;
    },
  };
}

const generatedFile = (name: string) => path.join(dir, 'generated', name);
const status = (summary: RunSummary, task: string) =>
  summary.tasks.find((entry) => entry.id === task)?.status;

describe('restoring an incremental table', () => {
  it('brings its marks back, is kept while nothing arrives, and is rebuilt in full when new rows do', async () => {
    const lake = await lakeNamed('restored');
    const others = [ESTABLISHMENTS_FILE, NAF_FILE].map(generatedFile);
    await lake.run(parts[0]!, ...others);
    await lake.run(parts[1]!);
    const silver = lake.layout.table(SILVER);
    const marks = async (version: number) => {
      const [commit] = await silver.commits(version, version);
      return commitInfoOf(commit!.actions)?.[MARK_FIELDS.inputs];
    };
    expect(await marks(1)).not.toEqual(await marks(0));

    const project = await Project.open({ cwd: dir, env: {} });
    const ctx = { project, locations: { lake: lake.location }, actor: 'test' };
    const restored = await restoreTable(ctx, reader, { ...SILVER, lake: lake.location }, 0);
    expect(restored).toMatchObject({ restoredVersion: 0, version: 2 });
    expect(restored.staleReaders).toContain('gold.active_companies_with_contracts_2022');
    expect(await marks(2)).toEqual(await marks(0));

    const quiet = await lake.run();
    expect(status(quiet, 'silver.marches_publics')).toBe('skipped');
    expect(status(quiet, 'gold.active_companies_with_contracts_2022')).toBe('success');
    expect((await silver.snapshot())?.version).toBe(2);

    const next = await lake.run(parts[2]!);
    expect(status(next, 'silver.marches_publics')).toBe('success');
    const log = (await store.readLog(next.runId, 'silver.marches_publics', 1)).lines.join('\n');
    expect(log).toContain('full refresh');

    const whole = await lakeNamed('whole');
    await whole.run(...parts, ...others);
    const tables = pipeline.tables.map((table) => ({ layer: table.layer, table: table.name }));
    const compared = await compareLakeTables(
      path.join(dir, 'scratch'),
      tables,
      whole.layout.stores,
      lake.layout.stores,
    );
    expect(compared.filter((table) => table.different > 0)).toEqual([]);
  }, 300_000);
});
