/** A pipeline's figures over its last runs, and the lake's latest layer check: what the Monitoring page draws. */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { listFleet } from '../../app/fleet.js';
import { monitoringSeries } from '../../app/monitoring.js';
import { contextOf, type ApiDeps, type ApiEnv } from '../env.js';
import { ERRORS, json, NOT_FOUND, route } from '../route.js';
import { PerRunSchema, PipelineParam, RunSchema } from '../schemas.js';
import { lastRuns } from './quality.js';

const LayerVolumeSchema = z.object({
  layer: z.string(),
  objects: z.number().int(),
  bytes: z.number(),
  rows: z.number().nullable(),
  tables: z.number().int(),
  newest: z.string().nullable(),
  ageHours: z.number().nullable(),
});

const MonitoringSchema = z
  .object({
    pipeline: z.string(),
    runs: z.array(
      RunSchema.pick({ id: true, state: true, logicalDate: true, startedAt: true, finishedAt: true }).extend({
        durationMs: z.number().nullable(),
      }),
    ),
    layers: z.array(z.object({ layer: z.string(), rows: PerRunSchema, bytes: PerRunSchema })),
    tasks: z.array(z.object({ task: z.string(), durationMs: PerRunSchema, peakRssBytes: PerRunSchema })),
    successRate: PerRunSchema,
    successWindow: z.number().int(),
    layerHealth: z
      .object({
        pipeline: z.string(),
        runId: z.string(),
        finishedAt: z.string().nullable(),
        layers: z.array(LayerVolumeSchema),
        warnings: z.array(z.string()),
      })
      .nullable(),
  })
  .openapi('Monitoring', {
    description: 'every series is aligned with `runs` (the last finished runs, in the order they finished)',
  });

const ProcessSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['scheduler', 'serve', 'run', 'worker']),
    host: z.string(),
    pid: z.number().int(),
    startedAt: z.string(),
    heartbeatAt: z.string(),
    stoppedAt: z.string().nullable(),
    pipelines: z.array(z.object({ name: z.string(), definitionHash: z.string() })),
    queues: z.array(z.string()).nullable().openapi({
      description: 'the queues it claims from (`*`: every queue); null when it executes nothing',
    }),
    slots: z.number().int().nullable(),
    state: z.enum(['alive', 'stopped', 'dead']),
    runningTries: z.number().int(),
  })
  .openapi('Process');

const fleet = route('read', {
  method: 'get',
  path: '/api/workers',
  summary:
    'The medallion processes: schedulers, workers, servers; what each serves and runs, when last heard of',
  tags: ['monitoring'],
  request: { query: z.object({ all: z.enum(['true', 'false']).default('false') }) },
  responses: { ...ERRORS, 200: json(z.array(ProcessSchema), 'the processes, most recently heard of first') },
});

const series = route('read', {
  method: 'get',
  path: '/api/pipelines/{name}/monitoring',
  summary:
    'Rows and bytes per layer, task durations and peak memory, success rate over the last runs; the latest layer check',
  tags: ['monitoring'],
  request: {
    params: PipelineParam,
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
  },
  responses: { ...ERRORS, 200: json(MonitoringSchema, 'the series'), ...NOT_FOUND },
});

export function monitoringRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(fleet, async (c) =>
    c.json(await listFleet(deps.store, { includeStopped: c.req.valid('query').all === 'true' }), 200),
  );
  app.openapi(series, async (c) =>
    c.json(
      await monitoringSeries(contextOf(deps, c), lastRuns(c.req.valid('param'), c.req.valid('query'))),
      200,
    ),
  );
  return app;
}
