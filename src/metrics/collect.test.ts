import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { definePipeline } from '../core/pipeline.js';
import { openMetadataStore } from '../metadata/open.js';
import { runPipeline } from '../runner/run-pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { localLake } from '../table/lake-layout.js';
import { collectMetrics } from './collect.js';
import { renderPrometheus } from './prometheus.js';

describe('metrics', () => {
  it('exposes runs, success rate, task and table figures as Prometheus text that parses', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-metrics-'));
    const store = await openMetadataStore(':memory:');
    let fail = false;
    const pipeline = definePipeline({
      name: 'metered',
      sources: [],
      tables: [{ name: 'numbers', layer: 'gold', sql: () => 'SELECT range AS n FROM range(42)' }],
      tasks: [
        {
          name: 'check',
          dependsOn: ['gold.numbers'],
          run: async () => {
            if (fail) throw new Error('a "quoted"\nfailure');
          },
        },
        {
          name: 'layers',
          run: async () => ({
            data: {
              layers: [
                { layer: 'gold', objects: 3, bytes: 1234, rows: 42, tables: 1, newest: null, ageHours: null },
              ],
            },
          }),
        },
      ],
    });
    const run = () =>
      runPipeline({
        pipeline,
        store,
        force: true,
        source: new LocalDiskStore(dir),
        lake: localLake(path.join(dir, 'lake')),
      });
    try {
      await run();
      fail = true;
      await run();
      const text = renderPrometheus(await collectMetrics(store));
      const families = parsePrometheusTextFormat(text);
      const family = (name: string) => families.find((candidate) => candidate.name === name);
      expect(family('medallion_runs')?.metrics).toEqual(
        expect.arrayContaining([
          { labels: { pipeline: 'metered', state: 'success' }, value: '1' },
          { labels: { pipeline: 'metered', state: 'failed' }, value: '1' },
        ]),
      );
      expect(family('medallion_run_success_ratio')?.metrics).toEqual([
        { labels: { pipeline: 'metered' }, value: '0.5' },
      ]);
      expect(family('medallion_task_rows_out')?.metrics).toEqual(
        expect.arrayContaining([
          { labels: { pipeline: 'metered', task: 'gold.numbers', state: 'success' }, value: '42' },
        ]),
      );
      expect(family('medallion_task_duration_seconds')?.metrics.length).toBeGreaterThanOrEqual(3);
      expect(family('medallion_table_rows')?.metrics).toEqual([
        { labels: { pipeline: 'metered', layer: 'gold', table: 'numbers' }, value: '42' },
      ]);
      expect(family('medallion_layer_bytes')?.metrics).toEqual([
        { labels: { layer: 'gold' }, value: '1234' },
      ]);
    } finally {
      await store.close();
    }
  });
});
