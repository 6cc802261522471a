import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemoData } from '../demo-data/generate.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { runPipeline } from './run-pipeline.js';

describe('a run that died between its bronze commits and the manifest update', () => {
  it('does not append the files or their quarantined rows twice when the next run loads them again', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-crash-'));
    await generateDemoData({ scale: 0.02, seed: 5, outDir: path.join(dir, 'source') });
    // A row with too many fields: quarantined by bronze, so the quarantine's append is exercised too.
    await appendFile(
      path.join(dir, 'source', 'simulated_etablissements_50000.csv'),
      'too,many,fields,'.repeat(20) + '\n',
    );
    const run = () =>
      runPipeline({
        pipeline,
        source: new LocalDiskStore(path.join(dir, 'source')),
        lake: localLake(path.join(dir, 'lake')),
      });
    const first = await run();
    expect(first.status).toBe('success');
    // Only the ingest's manifest commit is kept: every file looks landed but not loaded, as if the process had
    // been killed right after each bronze commit (and its quarantine's), before recording the file as loaded.
    const log = path.join(dir, 'lake', 'landing', '_manifest', '_delta_log');
    const commits = (await readdir(log)).filter((name) => name.endsWith('.json')).sort();
    for (const commit of commits.slice(1)) await rm(path.join(log, commit));

    const bronze = (summary: typeof first) =>
      summary.tables
        .filter((table) => table.layer === 'bronze')
        .map((table) => [table.table, table.version, table.rows]);
    const quarantined = async () =>
      (
        await new LakeLayout(localLake(path.join(dir, 'lake')))
          .quarantine({ layer: 'bronze', table: 'etablissements' })
          .versions()
      ).length;
    const quarantineVersions = await quarantined();
    expect(first.tables.find((table) => table.table === 'etablissements')?.accounting?.quarantined).toBe(1);
    const second = await run();
    expect(second.status).toBe('success');
    expect(bronze(second)).toEqual(bronze(first));
    expect(await quarantined()).toBe(quarantineVersions);
    expect(
      second.tables.filter((table) => table.layer === 'bronze').every((table) => table.rowsWritten === 0),
    ).toBe(true);
    // And the file is recorded as loaded again: a third run has nothing to load either.
    const third = await run();
    expect(
      third.tables.filter((table) => table.layer === 'bronze').map((table) => table.rowsWritten),
    ).toEqual([0, 0, 0]);
    await rm(dir, { recursive: true, force: true });
  });
});
