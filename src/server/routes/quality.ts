/** A pipeline's quality: its expectations over its last runs, and the quarantine of its lake. */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { qualityTrend } from '../../app/quality.js';
import { quarantineSummary } from '../../app/quarantine.js';
import { contextOf, type ApiDeps, type ApiEnv } from '../env.js';
import { ERRORS, json, NOT_FOUND, route } from '../route.js';
import { PerRunSchema, PipelineParam, RunSchema } from '../schemas.js';

/** What a route about a pipeline's last runs is asked: which pipeline (its path), how many runs (its query). */
export function lastRuns(param: { name: string }, query: { limit: number }) {
  return { pipeline: param.name, limit: query.limit };
}

const QualityTrendSchema = z
  .object({
    pipeline: z.string(),
    runs: z.array(
      RunSchema.pick({ id: true, state: true, logicalDate: true, finishedAt: true }).extend({
        results: z.number().int(),
        warned: z.number().int(),
        quarantined: z.number().int(),
        failed: z.number().int(),
      }),
    ),
    expectations: z.array(
      z.object({
        task: z.string(),
        name: z.string(),
        type: z.string(),
        action: z.enum(['warn', 'quarantine', 'fail']),
        failingRows: PerRunSchema.openapi({ description: 'per run, aligned with `runs` (null: no result)' }),
      }),
    ),
  })
  .openapi('QualityTrend');

const nullableText = z.string().nullable();

const QuarantineSchema = z
  .object({
    pipeline: z.string(),
    lake: z.string().nullable(),
    tables: z.array(
      z.object({
        table: z.string().openapi({ example: 'silver_marches_publics' }),
        version: z.number().int(),
        rows: z.number().int(),
        reasons: z.array(z.object({ reason: z.string(), rows: z.number().int() })),
        samples: z.array(
          z.object({
            run_id: nullableText,
            reason: nullableText,
            record_id: nullableText,
            record: nullableText,
            detail: nullableText,
            quarantined_at: nullableText,
          }),
        ),
      }),
    ),
  })
  .openapi('Quarantine');

const trend = route('read', {
  method: 'get',
  path: '/api/pipelines/{name}/quality',
  summary:
    'The last finished runs with what their expectations found, and each expectation’s failing rows over them',
  tags: ['quality'],
  request: {
    params: PipelineParam,
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }),
  },
  responses: { ...ERRORS, 200: json(QualityTrendSchema, 'the runs, oldest first'), ...NOT_FOUND },
});

const quarantine = route('read', {
  method: 'get',
  path: '/api/pipelines/{name}/quarantine',
  summary: 'Each quarantine table of the pipeline’s lake: rows by reason and the newest sample rows',
  tags: ['quality'],
  request: {
    params: PipelineParam,
    query: z.object({
      reason: z.string().min(1).max(200).optional().openapi({ description: 'samples of this reason only' }),
    }),
  },
  responses: { ...ERRORS, 200: json(QuarantineSchema, 'the quarantine tables'), ...NOT_FOUND },
});

export function qualityRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(trend, async (c) =>
    c.json(await qualityTrend(contextOf(deps, c), lastRuns(c.req.valid('param'), c.req.valid('query'))), 200),
  );
  app.openapi(quarantine, async (c) => {
    const { reason } = c.req.valid('query');
    return c.json(
      await quarantineSummary(contextOf(deps, c), {
        pipeline: c.req.valid('param').name,
        ...(reason !== undefined && { reason }),
      }),
      200,
    );
  });
  return app;
}
