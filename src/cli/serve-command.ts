/**
 * `medallion serve`: the scheduler plus the HTTP API (health, runs, Prometheus metrics), every route behind a
 * bearer token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { describeError } from '../core/errors.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { collectMetrics } from '../metrics/collect.js';
import { renderPrometheus } from '../metrics/prometheus.js';
import { fail } from './exit.js';
import { RUN_STATES } from './inspect-commands.js';
import { startScheduler, type SchedulerFlags, type StartedScheduler } from './orchestration.js';
import { note } from './output.js';
import { openProject } from './project-context.js';
import { checkApiToken, plainHttpWarning } from './serve-checks.js';

export interface ServeFlags extends SchedulerFlags {
  port?: number;
  host?: string;
}

/** What the API answers from. */
export interface ApiContext {
  store: MetadataStore;
  worker: string;
  pipelines: readonly PipelineDefinition[];
  startedAt: number;
}

const runsQuery = z.object({
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
});

/** An answer that is not JSON (Prometheus text). */
class TextBody {
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {}
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  response.end(`${JSON.stringify(body)}\n`);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether the request carries `Authorization: Bearer <token>`, compared in constant time. */
function authorized(request: IncomingMessage, expected: Buffer): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
}

/** The query checked against the route's schema: each parameter known, given at most once, and valid. */
function parseQuery<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  url: URL,
): z.output<z.ZodObject<Shape>> {
  const known = Object.keys(schema.shape);
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (!known.includes(key)) {
      throw new HttpError(400, `query parameter ${key}: unknown (this route takes ${known.join(', ')})`);
    }
    if (Object.hasOwn(query, key)) throw new HttpError(400, `query parameter ${key}: given more than once`);
    query[key] = value;
  }
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(400, `query parameter ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

async function route(context: ApiContext, url: URL): Promise<unknown> {
  switch (url.pathname) {
    case '/api/health': {
      const known = new Map((await context.store.listPipelines()).map((record) => [record.name, record]));
      return {
        status: 'ok',
        worker: context.worker,
        pipelines: context.pipelines.map((pipeline) => ({
          name: pipeline.name,
          paused: known.get(pipeline.name)?.paused ?? false,
        })),
        uptimeSeconds: Math.round((Date.now() - context.startedAt) / 1000),
      };
    }
    case '/metrics':
      return new TextBody(
        renderPrometheus(await collectMetrics(context.store)),
        'text/plain; version=0.0.4; charset=utf-8',
      );
    case '/api/runs': {
      const { pipeline, state, limit } = parseQuery(runsQuery, url);
      const runs = await context.store.listRuns({
        ...(pipeline && { pipeline }),
        ...(state && { states: [state] }),
        limit,
      });
      return { runs };
    }
    default:
      throw new HttpError(404, `no route ${url.pathname}`);
  }
}

/**
 * The HTTP API's request handler: every route wants the bearer token (401 otherwise, before anything else is
 * looked at); GET only; JSON in every answer. `context` is undefined until the scheduler is up (503).
 */
export function apiHandler(
  token: string,
  context: () => ApiContext | undefined,
): (request: IncomingMessage, response: ServerResponse) => void {
  const expected = digest(token);
  return (request, response) => {
    if (!authorized(request, expected)) {
      send(response, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    if (request.method !== 'GET') {
      send(response, 405, { error: `${request.method} is not allowed` }, { allow: 'GET' });
      return;
    }
    const ready = context();
    if (!ready) {
      send(response, 503, { error: 'starting' }, { 'retry-after': '1' });
      return;
    }
    route(ready, new URL(request.url ?? '/', 'http://localhost')).then(
      (body) => {
        if (!(body instanceof TextBody)) return send(response, 200, body);
        response.writeHead(200, { 'content-type': body.contentType, 'cache-control': 'no-store' });
        response.end(body.text);
      },
      (error: unknown) => {
        if (error instanceof HttpError) return send(response, error.status, { error: error.message });
        note(`medallion serve: ${request.url}: ${describeError(error)}`);
        send(response, 500, { error: 'internal error' });
      },
    );
  };
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** The API token: $MEDALLION_API_TOKEN (refused when weak), or one made up now and printed once on stderr. */
function apiToken(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.MEDALLION_API_TOKEN;
  if (given) return checkApiToken(given);
  const token = randomBytes(32).toString('base64url');
  note(`medallion serve: API token (set MEDALLION_API_TOKEN to choose it): ${token}`);
  return token;
}

/** The scheduler, or (when it cannot start) the server closed and the error passed on. */
async function startSchedulerOrClose(flags: ServeFlags, close: () => void): Promise<StartedScheduler> {
  try {
    return await startScheduler(flags, 'serve');
  } catch (error) {
    close();
    throw error;
  }
}

export async function serveCommand(flags: ServeFlags): Promise<void> {
  try {
    const api: { context?: ApiContext } = {};
    const server = createServer(apiHandler(apiToken(), () => api.context));
    const configured = (await openProject()).serve();
    // Listening first: a port already taken ends the command before the scheduler claims any work.
    const host = flags.host ?? configured.host ?? '127.0.0.1';
    const address = await listen(server, flags.port ?? configured.port ?? 8080, host);
    const exposed = plainHttpWarning(host, address.address);
    if (exposed) note(exposed);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      server.close();
      server.closeAllConnections();
    };
    // Registered before the scheduler's own handlers, so the API stops answering before its store closes.
    process.once('SIGINT', close);
    process.once('SIGTERM', close);
    const { scheduler, store, pipelines, done } = await startSchedulerOrClose(flags, close);
    api.context = { store, worker: scheduler.worker, pipelines, startedAt: Date.now() };
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    note(`medallion serve: listening on http://${shown}:${address.port}`);
    await done;
    close();
  } catch (error) {
    fail(error);
  }
}
