import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemoData } from '../../demo-data/generate.js';
import { openMetadataStore } from '../../metadata/open.js';
import type { LayerHealth } from '../../runner/layer-health.js';
import type { RetentionReport } from '../../runner/retention.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import type { RunSummary } from '../../runner/run-summary.js';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { localLake } from '../../table/lake-layout.js';
import dataPipeline from '../medallion_data_pipeline/pipeline.js';
import checks from './pipeline.js';

describe('the data_quality_checks pipeline', () => {
  it('runs every 12 hours and reports each layer, warning about empty layers and data stuck before them', async () => {
    expect(checks.schedule).toMatchObject({ every: '12h' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-dq-'));
    const source = new LocalDiskStore(path.join(dir, 'source'));
    const lake = localLake(path.join(dir, 'lake'));
    const store = await openMetadataStore(':memory:');
    const health = async (): Promise<LayerHealth> => {
      const summary = await runPipeline({ pipeline: checks, store, source, lake });
      expect(summary.status).toBe('success');
      const [attempt] = await store.listAttempts(summary.runId, 'layer_health');
      return (attempt?.output as { data: LayerHealth }).data;
    };
    try {
      const empty = await health();
      expect(empty.warnings).toContain('landing is empty');
      expect(empty.layers.map((layer) => layer.objects)).toEqual([0, 0, 0, 0]);

      await generateDemoData({ scale: 0.02, seed: 3, outDir: path.join(dir, 'source') });
      expect((await runPipeline({ pipeline: dataPipeline, source, lake })).status).toBe('success');
      const full = await health();
      expect(full.layers.every((layer) => layer.objects > 0 && layer.bytes > 0)).toBe(true);
      expect(full.layers.map((layer) => layer.tables)).toEqual([0, 3, 3, 5]);
      expect(full.layers.find((layer) => layer.layer === 'bronze')?.rows).toBeGreaterThan(1000);
      expect(full.warnings.filter((warning) => /empty|stuck|stale/.test(warning))).toEqual([]);
      const lines = (await store.readLog((await store.listRuns())[0]?.id ?? '', 'layer_health', 1)).lines;
      expect(lines.some((line) => /gold: \d+ objects/.test(line))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('applies the retention its run recorded, after layer_health, and logs and returns what it deleted per layer', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-dq-retention-'));
    const source = new LocalDiskStore(path.join(dir, 'source'));
    const lake = localLake(path.join(dir, 'lake'));
    const store = await openMetadataStore(':memory:');
    try {
      await generateDemoData({ scale: 0.02, seed: 4, outDir: source.location });
      // Twice, the second rebuilding every table: silver and gold get a second version, the first one's files
      // only it needs.
      for (const force of [false, true]) {
        const run = await runPipeline({ pipeline: dataPipeline, source, lake, force, fullRefresh: force });
        expect(run.status).toBe('success');
      }
      const before = await runPipeline({ pipeline: dataPipeline, source, lake });
      await new Promise((resolve) => setTimeout(resolve, 1100));

      const retention = { landing: '1s', versions: '1s', leftovers: '1s', forceShortRetention: true };
      const locations = { source: null, lake: lake.location, retention };
      const summary = await runPipeline({ pipeline: checks, store, lake, locations });
      expect(summary.status).toBe('success');
      expect((await store.getRun(summary.runId))?.locations?.retention).toEqual(retention);
      const [health] = await store.listAttempts(summary.runId, 'layer_health');
      const [attempt] = await store.listAttempts(summary.runId, 'retention');
      expect((attempt?.startedAt ?? '') >= (health?.finishedAt ?? '~')).toBe(true);
      const report = (attempt?.output as { data: RetentionReport }).data;
      const layer = (name: string) => report.perLayer.find((entry) => entry.layer === name);
      expect(report.policy).toEqual({ landing: '1s', versions: '1s', quarantine: '1s', leftovers: '1s' });
      expect(layer('landing')).toMatchObject({ landedCopies: 3, unrecordedCopies: 0 });
      expect(layer('silver')?.dataFiles).toBeGreaterThan(0);
      expect(layer('gold')?.dataFiles).toBeGreaterThan(0);
      expect(layer('bronze')?.files).toBe(0); // appended: every file is in the current version
      expect(report.files).toBe(report.perLayer.reduce((sum, entry) => sum + entry.files, 0));
      const lines = (await store.readLog(summary.runId, 'retention', 1)).lines;
      const logged = (text: string) => lines.some((line) => line.includes(text));
      expect(logged('retention: landing 1s, versions 1s, quarantine 1s, leftovers 1s')).toBe(true);
      expect(lines.some((line) => /silver: deleted \d+ file\(s\), \d+ bytes/.test(line))).toBe(true);
      expect(logged(`deleted ${report.files} file(s), ${report.bytes} bytes in all`)).toBe(true);

      // The lake still serves its current versions, and nothing is ingested again.
      const after = await runPipeline({ pipeline: dataPipeline, source, lake });
      expect(after.status).toBe('success');
      expect(after.ingest.landed).toEqual([]);
      const rows = (run: RunSummary) => run.tables.map((table) => [table.layer, table.table, table.rows]);
      expect(rows(after)).toEqual(rows(before));
    } finally {
      await store.close();
    }
  });
});
