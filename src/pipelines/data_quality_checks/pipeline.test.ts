import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemoData } from '../../demo-data/generate.js';
import { openMetadataStore } from '../../metadata/open.js';
import type { LayerHealth } from '../../runner/layer-health.js';
import { runPipeline } from '../../runner/run-pipeline.js';
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
});
