import type { AttemptRecord, MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { latestAttempts } from '../core/run-state.js';
import type { LayerVolume } from '../runner/layer-health.js';
import type { RunSummary } from '../runner/run-summary.js';
import type { MetricFamily, Sample } from './prometheus.js';

/** Runs looked at per pipeline for the success rate. */
const RECENT_RUNS = 100;

interface LatestTry {
  pipeline: string;
  attempt: AttemptRecord;
}

/**
 * What medallion exposes at /metrics: per pipeline, runs by state and the success rate of recent finished runs;
 * per task, the figures of its latest finished try; per table, rows and bytes of its current version (from the
 * latest run summary); per layer, objects and bytes when a layer check has measured them.
 */
export async function collectMetrics(store: MetadataStore): Promise<MetricFamily[]> {
  const pipelines = await store.listPipelines();
  const runsByState: Sample[] = [];
  const successRate: Sample[] = [];
  const tries: LatestTry[] = [];
  const tables: { pipeline: string; summary: RunSummary }[] = [];
  let layers: LayerVolume[] = [];
  for (const { name } of pipelines) {
    const runs = await store.listRuns({ pipeline: name, limit: RECENT_RUNS });
    const counts = new Map<string, number>();
    for (const run of runs) counts.set(run.state, (counts.get(run.state) ?? 0) + 1);
    for (const state of ['queued', 'running', 'success', 'failed']) {
      runsByState.push({ labels: { pipeline: name, state }, value: counts.get(state) ?? 0 });
    }
    const finished = (counts.get('success') ?? 0) + (counts.get('failed') ?? 0);
    if (finished > 0)
      successRate.push({ labels: { pipeline: name }, value: (counts.get('success') ?? 0) / finished });
    const latest = runs.find((run) => run.state === 'success' || run.state === 'failed');
    if (latest) {
      for (const attempt of latestTries(await store.listAttempts(latest.id))) {
        tries.push({ pipeline: name, attempt });
        layers = layerVolumes(attempt) ?? layers;
      }
      if (isSummary(latest)) tables.push({ pipeline: name, summary: latest.summary });
    }
  }
  return [
    {
      name: 'medallion_runs',
      help: 'Recent runs of each pipeline by state.',
      type: 'gauge',
      samples: runsByState,
    },
    {
      name: 'medallion_run_success_ratio',
      help: 'Share of the recent finished runs that succeeded.',
      type: 'gauge',
      samples: successRate,
    },
    ...taskFamilies(tries),
    ...tableFamilies(tables),
    {
      name: 'medallion_layer_objects',
      help: 'Objects in each lake layer at the latest layer check.',
      type: 'gauge',
      samples: layers.map((layer) => ({ labels: { layer: layer.layer }, value: layer.objects })),
    },
    {
      name: 'medallion_layer_rows',
      help: 'Rows in the current versions of the tables of each lake layer at the latest layer check.',
      type: 'gauge',
      samples: layers
        .filter((layer) => typeof layer.rows === 'number')
        .map((layer) => ({ labels: { layer: layer.layer }, value: layer.rows ?? 0 })),
    },
    {
      name: 'medallion_layer_bytes',
      help: 'Bytes in each lake layer at the latest layer check.',
      type: 'gauge',
      samples: layers.map((layer) => ({ labels: { layer: layer.layer }, value: layer.bytes })),
    },
  ];
}

function latestTries(attempts: readonly AttemptRecord[]): AttemptRecord[] {
  return [...latestAttempts(attempts).values()].filter((attempt) => attempt.metrics !== null);
}

const TASK_FIGURES = [
  ['duration_seconds', 'Duration of the task’s latest try.', (m) => m.durationMs / 1000],
  ['cpu_seconds', 'CPU time of the process during the task’s latest try.', (m) => (m.cpuMs ?? NaN) / 1000],
  [
    'peak_rss_bytes',
    'Peak resident memory of the process by the end of the task’s latest try.',
    (m) => m.peakRssBytes ?? NaN,
  ],
  ['rows_in', 'Rows the task’s latest try read.', (m) => m.rowsIn ?? NaN],
  ['rows_out', 'Rows the task’s latest try wrote.', (m) => m.rowsOut ?? NaN],
  ['rows_quarantined', 'Rows the task’s latest try sent to quarantine.', (m) => m.rowsQuarantined ?? NaN],
  ['bytes_read', 'Bytes the task’s latest try read.', (m) => m.bytesRead ?? NaN],
  ['bytes_written', 'Bytes the task’s latest try wrote.', (m) => m.bytesWritten ?? NaN],
] as const satisfies readonly (readonly [
  string,
  string,
  (metrics: NonNullable<AttemptRecord['metrics']>) => number,
])[];

function taskFamilies(tries: readonly LatestTry[]): MetricFamily[] {
  return TASK_FIGURES.map(([suffix, help, value]) => ({
    name: `medallion_task_${suffix}`,
    help,
    type: 'gauge' as const,
    samples: tries
      .filter(({ attempt }) => attempt.metrics && !Number.isNaN(value(attempt.metrics)))
      .map(({ pipeline, attempt }) => ({
        labels: { pipeline, task: attempt.taskId, state: attempt.state },
        value: value(attempt.metrics as NonNullable<AttemptRecord['metrics']>),
      })),
  }));
}

function tableFamilies(tables: readonly { pipeline: string; summary: RunSummary }[]): MetricFamily[] {
  const rows: Sample[] = [];
  const bytes: Sample[] = [];
  const quarantined: Sample[] = [];
  for (const { pipeline, summary } of tables) {
    for (const table of summary.tables) {
      const labels = { pipeline, layer: table.layer, table: table.table };
      rows.push({ labels, value: table.rows });
      if (typeof table.bytes === 'number') bytes.push({ labels, value: table.bytes });
      if (table.accounting) quarantined.push({ labels, value: table.accounting.quarantined });
    }
  }
  return [
    {
      name: 'medallion_table_rows',
      help: 'Rows in the current version of each table.',
      type: 'gauge',
      samples: rows,
    },
    {
      name: 'medallion_table_bytes',
      help: 'Bytes of the current version of each table.',
      type: 'gauge',
      samples: bytes,
    },
    {
      name: 'medallion_table_quarantined_rows',
      help: 'Records the latest build of each refined table quarantined.',
      type: 'gauge',
      samples: quarantined,
    },
  ];
}

/** The layer volumes a layer check (data_quality_checks' layer_health) reported, if this try is one. */
function layerVolumes(attempt: AttemptRecord): LayerVolume[] | undefined {
  const data = (attempt.output as { data?: { layers?: unknown } } | null)?.data;
  return attempt.state === 'success' && Array.isArray(data?.layers)
    ? (data.layers as LayerVolume[])
    : undefined;
}

function isSummary(run: RunRecord): run is RunRecord & { summary: RunSummary } {
  const summary = run.summary as Partial<RunSummary> | null;
  return summary !== null && typeof summary === 'object' && Array.isArray(summary.tables);
}
