import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemoData } from '../demo-data/generate.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { localLake } from '../table/lake-layout.js';
import { runPipeline } from './run-pipeline.js';

describe('a run that died between a bronze commit and the manifest update', () => {
  it('does not append the file twice when the next run loads it again', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-crash-'));
    await generateDemoData({ scale: 0.02, seed: 5, outDir: path.join(dir, 'source') });
    const run = () =>
      runPipeline({
        pipeline,
        source: new LocalDiskStore(path.join(dir, 'source')),
        lake: localLake(path.join(dir, 'lake')),
      });
    const first = await run();
    expect(first.status).toBe('success');
    // The last manifest commit marked the NAF file loaded; without it the file looks landed only,
    // as if the process had been killed right after bronze.codes_naf committed.
    const log = path.join(dir, 'lake', 'landing', '_manifest', '_delta_log');
    const commits = (await readdir(log)).filter((name) => name.endsWith('.json')).sort();
    await rm(path.join(log, commits[commits.length - 1]!));

    const second = await run();
    expect(second.status).toBe('success');
    const naf = (summary: typeof first) =>
      summary.tables.find((table) => table.table === 'codes_naf' && table.layer === 'bronze');
    expect(naf(second)?.version).toBe(naf(first)?.version);
    expect(naf(second)?.rows).toBe(naf(first)?.rows);
    // And the file is now recorded as loaded: a third run has nothing to load.
    const third = await run();
    expect(naf(third)?.rowsWritten).toBe(0);
  });
});
