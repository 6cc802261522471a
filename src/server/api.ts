/**
 * The HTTP API and the web UI of `medallion serve`, on Hono: every route described in /api/openapi.json (browsable
 * at /api/docs), every input validated by its zod schema, every route but health and login behind a session or an
 * API token with the right role, a Content-Security-Policy on every answer, and errors that leak no stack.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { HTTPException } from 'hono/http-exception';
import { ConfigError, describeError, MedallionError, NotFoundError } from '../core/errors.js';
import { collectMetrics } from '../metrics/collect.js';
import { renderPrometheus } from '../metrics/prometheus.js';
import { authenticate, requires, SESSION_COOKIE } from './auth-middleware.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { adminRoutes } from './routes/admin.js';
import { docsRoutes } from './routes/docs.js';
import { lakeRoutes } from './routes/lake.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { qualityRoutes } from './routes/quality.js';
import { queryRoutes } from './routes/query.js';
import { runRoutes } from './routes/runs.js';
import { sessionRoutes } from './routes/session.js';
import { uiRoutes } from './routes/ui.js';

/** The validation failure's first issue, naming where it is: `query parameter limit: expected …`. */
function validationError(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  target: string,
) {
  const issue = issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  const where = { query: 'query parameter', param: 'path parameter', json: 'body field' }[target] ?? target;
  return { error: `${where} ${field || '(all)'}: ${issue?.message ?? 'not valid'}`, field };
}

export function createApi(
  deps: ApiDeps,
  options: { log?: (line: string) => void } = {},
): OpenAPIHono<ApiEnv> {
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(validationError(result.error.issues, result.target), 400);
      return undefined;
    },
  });

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // React Flow and ECharts position with inline styles.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
      },
      referrerPolicy: 'same-origin',
      // Only over TLS: a browser told so over plain HTTP would refuse the next plain visit.
      strictTransportSecurity: deps.secure ? 'max-age=15552000; includeSubDomains' : false,
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    if (c.req.path.startsWith('/api/') || c.req.path === '/metrics') c.header('cache-control', 'no-store');
  });
  app.use('*', authenticate(deps));

  app.route('/', sessionRoutes(deps));
  app.route('/', pipelineRoutes(deps));
  app.route('/', runRoutes(deps));
  app.route('/', adminRoutes(deps));
  app.route('/', lakeRoutes(deps));
  app.route('/', queryRoutes(deps));
  app.route('/', qualityRoutes(deps));
  app.route('/', monitoringRoutes(deps));

  app.get('/metrics', requires('read'), async (c) =>
    c.body(renderPrometheus(await collectMetrics(deps.store)), 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    }),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'the session cookie POST /api/auth/login sets; changes also send the x-csrf-token header',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'a personal API token (mdl_…), made with POST /api/tokens or `medallion tokens add`',
  });
  app.use('/api/openapi.json', requires('read'));
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'medallion',
      version: '0.1.0',
      description:
        'Lakehouse pipelines: pipelines, runs, tasks and their logs, quality, connections, users. Each operation ' +
        'says who may call it in `x-permission` (read: any role; operate: operator or admin; admin: admin).',
    },
  });
  app.route('/', docsRoutes());
  app.route('/', uiRoutes(deps.uiDir));

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
    if (error instanceof NotFoundError) return c.json(errorBody(error), 404);
    if (error instanceof ConfigError || error instanceof MedallionError) return c.json(errorBody(error), 400);
    log(`medallion serve: ${c.req.method} ${c.req.path}: ${describeError(error)}`);
    return c.json({ error: 'internal error (the server log says more)' }, 500);
  });
  return app;
}

function errorBody(error: MedallionError): { error: string; field?: string; hint?: string } {
  return {
    error: error.message,
    ...(error.context.field && { field: error.context.field }),
    ...(error.hint && { hint: error.hint }),
  };
}
