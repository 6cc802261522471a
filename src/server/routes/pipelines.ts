/** Pipelines: the list, one with its graph and lineage, the grid of its last runs, pause; trigger and backfill. */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { pipelineDetail, pipelineOverviews, setPaused } from '../../app/pipelines.js';
import { backfillPipeline, runGrid, triggerPipeline } from '../../app/runs.js';
import { contextOf, type ApiDeps, type ApiEnv } from '../env.js';
import { ERRORS, json, jsonBody, NOT_FOUND, route } from '../route.js';
import {
  GridSchema,
  InstantSchema as instant,
  ParamValuesSchema,
  PipelineDetailSchema,
  PipelineOverviewSchema,
  PipelineParam as Pipeline,
  RunSchema,
  toInstant,
} from '../schemas.js';

const list = route('read', {
  method: 'get',
  path: '/api/pipelines',
  summary: 'The pipelines: schedule in words, next run, paused, the last runs, success rate',
  tags: ['pipelines'],
  responses: {
    ...ERRORS,
    200: json(z.object({ pipelines: z.array(PipelineOverviewSchema) }), 'the pipelines'),
  },
});

const one = route('read', {
  method: 'get',
  path: '/api/pipelines/{name}',
  summary: 'A pipeline: its parameters, task graph, table lineage and locations',
  tags: ['pipelines'],
  request: { params: Pipeline },
  responses: { ...ERRORS, 200: json(PipelineDetailSchema, 'the pipeline'), ...NOT_FOUND },
});

const grid = route('read', {
  method: 'get',
  path: '/api/pipelines/{name}/grid',
  summary: 'The last runs × the tasks, with each task instance’s state (oldest run first)',
  tags: ['pipelines'],
  request: {
    params: Pipeline,
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(25) }),
  },
  responses: { ...ERRORS, 200: json(GridSchema, 'the grid'), ...NOT_FOUND },
});

const pause = (paused: boolean) =>
  route('operate', {
    method: 'post',
    path: `/api/pipelines/{name}/${paused ? 'pause' : 'unpause'}`,
    summary: paused
      ? 'Pause: no new scheduled runs, queued runs wait'
      : 'Unpause: schedulers create and start its runs again',
    tags: ['pipelines'],
    request: { params: Pipeline },
    responses: {
      ...ERRORS,
      200: json(z.object({ pipeline: z.string(), paused: z.boolean() }), 'done'),
      ...NOT_FOUND,
    },
  });

const trigger = route('operate', {
  method: 'post',
  path: '/api/pipelines/{name}/runs',
  summary: 'Trigger a run on the pipeline’s locations, its parameters checked against those it declares',
  tags: ['runs'],
  request: {
    params: Pipeline,
    body: jsonBody(
      z.object({
        params: ParamValuesSchema.default({}),
        logicalDate: instant.optional(),
        force: z.boolean().default(false),
        fullRefresh: z.boolean().default(false).openapi({
          description: 'rebuild incremental tables from all their input instead of merging what arrived',
        }),
        engine: z.enum(['duckdb', 'spark']).optional().openapi({
          description: "what computes the run's silver and gold tables (default: the project's)",
        }),
      }),
      'the run',
    ),
  },
  responses: { ...ERRORS, 201: json(RunSchema, 'queued'), ...NOT_FOUND },
});

const backfill = route('operate', {
  method: 'post',
  path: '/api/pipelines/{name}/backfills',
  summary: 'A run for every schedule interval starting in [from, to]; intervals that have one keep it',
  tags: ['runs'],
  request: {
    params: Pipeline,
    body: jsonBody(
      z.object({
        from: instant,
        to: instant,
        params: ParamValuesSchema.default({}),
        force: z.boolean().default(false),
      }),
      'the intervals',
    ),
  },
  responses: {
    ...ERRORS,
    201: json(z.object({ runs: z.array(z.object({ run: RunSchema, created: z.boolean() })) }), 'the runs'),
    ...NOT_FOUND,
  },
});

export function pipelineRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(list, async (c) => c.json({ pipelines: await pipelineOverviews(contextOf(deps, c)) }, 200));
  app.openapi(one, async (c) =>
    c.json(await pipelineDetail(contextOf(deps, c), c.req.valid('param').name), 200),
  );
  app.openapi(grid, async (c) => {
    const { name } = c.req.valid('param');
    return c.json(await runGrid(contextOf(deps, c), name, c.req.valid('query').limit), 200);
  });
  for (const paused of [true, false]) {
    app.openapi(pause(paused), async (c) =>
      c.json(await setPaused(contextOf(deps, c), c.req.valid('param').name, paused), 200),
    );
  }
  app.openapi(trigger, async (c) => {
    const body = c.req.valid('json');
    const run = await triggerPipeline(contextOf(deps, c), c.req.valid('param').name, {
      params: body.params,
      force: body.force,
      fullRefresh: body.fullRefresh,
      ...(body.logicalDate && { logicalDate: toInstant(body.logicalDate) }),
      ...(body.engine && { engine: body.engine }),
    });
    return c.json(run, 201);
  });
  app.openapi(backfill, async (c) => {
    const body = c.req.valid('json');
    const { runs } = await backfillPipeline(contextOf(deps, c), c.req.valid('param').name, {
      from: toInstant(body.from),
      to: toInstant(body.to),
      params: body.params,
      force: body.force,
    });
    return c.json({ runs }, 201);
  });
  return app;
}
