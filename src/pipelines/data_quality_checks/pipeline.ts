import { applyRetention, checkLayerHealth, definePipeline, describeRetention } from '../../index.js';

/**
 * The seed's second DAG: every 12 hours, look at each layer of the lake — volume, freshness, data stuck between
 * layers — and report warnings in the task's log and output; then apply the lake's retention.
 */
export default definePipeline({
  name: 'data_quality_checks',
  description: 'Volume and freshness of each lake layer, with warnings; retention',
  sources: [],
  tables: [],
  schedule: { every: '12h', startDate: '2025-06-01T00:00:00Z', catchup: false, maxActiveRuns: 1 },
  taskDefaults: { retries: 1, retryDelay: '5m' },
  params: {
    max_age_hours: {
      type: 'number',
      default: 24,
      description: 'a layer whose newest object is older than this is reported as stale',
    },
  },
  tasks: [
    {
      name: 'layer_health',
      description: 'objects, bytes and age of the newest object per layer',
      async run({ lake, params, log }) {
        const health = await checkLayerHealth(lake, new Date(), {
          maxAgeHours: Number(params.max_age_hours),
        });
        for (const layer of health.layers) {
          const rows = layer.rows === null ? '' : `, ${layer.tables} tables, ${layer.rows} rows`;
          log(
            `${layer.layer}: ${layer.objects} objects, ${layer.bytes} bytes${rows}, newest ${layer.newest ?? 'none'}`,
          );
        }
        for (const warning of health.warnings) log(`warning: ${warning}`);
        return {
          detail: `${health.layers.length} layers checked, ${health.warnings.length} warning(s)`,
          data: health,
        };
      },
    },
    {
      name: 'retention',
      description:
        "deletes what the project file's retention lets go: loaded landing copies, old versions' data files, crashed tries' files",
      // After the health check, so that it reports the layers as they were before.
      dependsOn: ['layer_health'],
      async run({ lake, retention, runId, log }) {
        const { report } = await applyRetention(lake, retention, { now: new Date(), runId });
        for (const line of describeRetention(report)) log(line);
        return {
          detail: `deleted ${report.files} file(s), ${report.bytes} bytes`,
          data: report,
        };
      },
    },
  ],
});
