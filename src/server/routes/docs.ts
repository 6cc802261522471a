/** The API reference: Swagger UI over /api/openapi.json, its assets served from here (nothing from elsewhere). */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import { requires } from '../auth-middleware.js';
import type { ApiEnv } from '../env.js';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>medallion API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

// A script of its own, not inline: the Content-Security-Policy allows scripts from this origin only.
const INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#reference', deepLinking: true,
  requestInterceptor: (request) => {
    const token = sessionStorage.getItem('medallion.csrf');
    if (token) request.headers['x-csrf-token'] = token;
    return request;
  } });
`;

export function docsRoutes(): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const dir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  app.use('/api/docs/*', requires('read'));
  app.use('/api/docs', requires('read'));
  app.get('/api/docs', (c) => c.html(PAGE));
  app.get('/api/docs/init.js', (c) =>
    c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/api/docs/:file', async (c) => {
    const file = c.req.param('file');
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) return c.json({ error: `no file ${file}` }, 404);
    return c.body(await readFile(path.join(dir, file)), 200, {
      'content-type': type,
      'cache-control': 'private, max-age=86400',
    });
  });
  return app;
}
