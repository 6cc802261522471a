/** Runs: list and inspect them (tasks, tries, logs, what their expectations found), clear and cancel them, live. */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { stream, streamSSE } from 'hono/streaming';
import { findAttempt, readTryLog } from '../../app/logs.js';
import { runQuality } from '../../app/quality.js';
import { cancelRun, clearRunTasks, requireRun, runDetail, RUN_STATES } from '../../app/runs.js';
import { isRunFinished } from '../../core/run-state.js';
import type { AttemptRecord, MetadataStore } from '../../metadata/metadata-store.js';
import { contextOf, type ApiDeps, type ApiEnv } from '../env.js';
import { ERRORS, json, jsonBody, NOT_FOUND, route } from '../route.js';
import { LogPageSchema, QualitySchema, RunDetailSchema, RunIdParam, RunSchema } from '../schemas.js';

const TaskParams = RunIdParam.extend({
  task: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,200}$/, 'a task id, e.g. silver.marches_publics')
    .openapi({ param: { name: 'task', in: 'path' }, example: 'silver.marches_publics' }),
});

const list = route('read', {
  method: 'get',
  path: '/api/runs',
  summary: 'Runs, newest logical date first',
  tags: ['runs'],
  request: {
    query: z.object({
      pipeline: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/, 'expected a pipeline name (lower_snake_case)')
        .optional(),
      state: z.enum(RUN_STATES, `expected one of ${RUN_STATES.join(', ')}`).optional(),
      limit: z.coerce
        .number('expected a whole number from 1 to 1000')
        .int('expected a whole number from 1 to 1000')
        .min(1, 'expected a whole number from 1 to 1000')
        .max(1000, 'expected a whole number from 1 to 1000')
        .default(100),
    }),
  },
  responses: { ...ERRORS, 200: json(z.object({ runs: z.array(RunSchema) }), 'the runs') },
});

const one = route('read', {
  method: 'get',
  path: '/api/runs/{id}',
  summary: 'A run with its tasks and every try of each (state, times, metrics, reason)',
  tags: ['runs'],
  request: { params: RunIdParam },
  responses: { ...ERRORS, 200: json(RunDetailSchema, 'the run'), ...NOT_FOUND },
});

const events = route('read', {
  method: 'get',
  path: '/api/runs/{id}/events',
  summary: 'Server-Sent Events: the run and its tasks (event `run`) whenever they change, until it ends',
  tags: ['runs'],
  request: { params: RunIdParam },
  responses: {
    ...ERRORS,
    200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'the stream' },
    ...NOT_FOUND,
  },
});

const clear = route('operate', {
  method: 'post',
  path: '/api/runs/{id}/clear',
  summary: 'Run its failed or cancelled tasks again (and those they held back), on the run’s own lake',
  tags: ['runs'],
  request: {
    params: RunIdParam,
    body: jsonBody(z.object({ tasks: z.array(z.string().min(1)).default([]) }), 'which tasks (default: all)'),
  },
  responses: {
    ...ERRORS,
    200: json(z.object({ runId: z.string(), cleared: z.array(z.string()) }), 'the tasks cleared'),
    ...NOT_FOUND,
  },
});

const cancel = route('operate', {
  method: 'post',
  path: '/api/runs/{id}/cancel',
  summary:
    'Stop the run wherever it runs: running tries stop at their next heartbeat, the others never start',
  tags: ['runs'],
  request: { params: RunIdParam },
  responses: {
    ...ERRORS,
    200: json(z.object({ run: RunSchema, already: z.boolean() }), 'asked (or already finished)'),
    ...NOT_FOUND,
  },
});

const attemptQuery = z.object({
  attempt: z.coerce.number().int().min(1).optional(),
});

const log = route('read', {
  method: 'get',
  path: '/api/runs/{id}/tasks/{task}/log',
  summary:
    'A try’s log lines (default the latest try), from line `after` on; with `format=text`, all of them as a file',
  tags: ['runs'],
  request: {
    params: TaskParams,
    query: attemptQuery.extend({
      after: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(10_000).default(5_000),
      format: z
        .enum(['json', 'text'], 'expected json or text')
        .default('json')
        .openapi({ description: 'text: every line from `after` on, to save (`limit` does not apply)' }),
    }),
  },
  responses: {
    ...ERRORS,
    200: {
      content: {
        'application/json': { schema: LogPageSchema },
        'text/plain': { schema: z.string() },
      },
      description: 'the lines',
    },
    ...NOT_FOUND,
  },
});

const logStream = route('read', {
  method: 'get',
  path: '/api/runs/{id}/tasks/{task}/log/stream',
  summary:
    'Server-Sent Events: a try’s lines as they come (event `lines`), then `end` with the try as it ended',
  tags: ['runs'],
  request: { params: TaskParams, query: attemptQuery },
  responses: {
    ...ERRORS,
    200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'the stream' },
    ...NOT_FOUND,
  },
});

const quality = route('read', {
  method: 'get',
  path: '/api/runs/{id}/quality',
  summary: 'What each table’s expectations found in the run',
  tags: ['quality'],
  request: { params: RunIdParam },
  responses: { ...ERRORS, 200: json(QualitySchema, 'the results'), ...NOT_FOUND },
});

/** How often a stream looks at the store. */
const POLL_MS = 500;

/** The try's lines from `after` on as a text file to save, read page by page as they are sent. */
function logFile(c: Context, store: MetadataStore, attempt: AttemptRecord, after: number): Response {
  const { runId, taskId } = attempt;
  c.header('content-type', 'text/plain; charset=utf-8');
  // Run and task ids are checked against [A-Za-z0-9_.-]: nothing to quote.
  c.header('content-disposition', `attachment; filename="${runId}_${taskId}_try${attempt.attempt}.log"`);
  return stream(c, async (out) => {
    for await (const { lines } of readTryLog(store, { runId, taskId, attempt: attempt.attempt }, after)) {
      if (lines.length > 0) await out.write(lines.map((line) => `${line}\n`).join(''));
    }
  });
}

export function runRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(list, async (c) => {
    const { pipeline, state, limit } = c.req.valid('query');
    const runs = await deps.store.listRuns({
      ...(pipeline && { pipeline }),
      ...(state && { states: [state] }),
      limit,
    });
    return c.json({ runs }, 200);
  });
  app.openapi(one, async (c) => c.json(await runDetail(contextOf(deps, c), c.req.valid('param').id), 200));

  app.openapi(events, async (c) => {
    const ctx = contextOf(deps, c);
    const { id } = c.req.valid('param');
    await requireRun(deps.store, id);
    return streamSSE(c, async (stream) => {
      let last = '';
      let aborted = false;
      stream.onAbort(() => {
        aborted = true;
      });
      while (!aborted) {
        const detail = await runDetail(ctx, id);
        const text = JSON.stringify(detail);
        if (text !== last) {
          await stream.writeSSE({ event: 'run', data: text });
          last = text;
        }
        if (isRunFinished(detail.run.state)) break;
        await stream.sleep(POLL_MS);
      }
    }) as never;
  });

  app.openapi(clear, async (c) => {
    const { id } = c.req.valid('param');
    const { cleared } = await clearRunTasks(contextOf(deps, c), id, { tasks: c.req.valid('json').tasks });
    return c.json({ runId: id, cleared }, 200);
  });
  app.openapi(cancel, async (c) => c.json(await cancelRun(contextOf(deps, c), c.req.valid('param').id), 200));

  app.openapi(log, async (c) => {
    const { id, task } = c.req.valid('param');
    const { attempt: number, after, limit, format } = c.req.valid('query');
    await requireRun(deps.store, id);
    const attempt = await findAttempt(deps.store, {
      runId: id,
      taskId: task,
      ...(number !== undefined && { attempt: number }),
    });
    if (!attempt) return c.json({ error: `task ${task} of run ${id} has not run` }, 404);
    if (format === 'text') return logFile(c, deps.store, attempt, after) as never;
    const page = await deps.store.readLog(id, task, attempt.attempt, after, limit);
    return c.json({ attempt, lines: page.lines, nextLine: page.nextLine }, 200);
  });

  app.openapi(logStream, async (c) => {
    const { id, task } = c.req.valid('param');
    const { attempt } = c.req.valid('query');
    await requireRun(deps.store, id);
    return streamSSE(c, async (stream) => {
      const stop = new AbortController();
      stream.onAbort(() => stop.abort());
      for await (const chunk of readTryLog(deps.store, {
        runId: id,
        taskId: task,
        ...(attempt !== undefined && { attempt }),
        follow: true,
        pollMs: POLL_MS,
        signal: stop.signal,
      })) {
        if (chunk.lines.length > 0)
          await stream.writeSSE({ event: 'lines', data: JSON.stringify(chunk.lines) });
        if (chunk.attempt.state !== 'running' && chunk.lines.length === 0) {
          await stream.writeSSE({ event: 'end', data: JSON.stringify(chunk.attempt) });
        }
      }
    }) as never;
  });

  app.openapi(quality, async (c) =>
    c.json(await runQuality(contextOf(deps, c), { runId: c.req.valid('param').id }), 200),
  );
  return app;
}
