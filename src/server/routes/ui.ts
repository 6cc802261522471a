/**
 * The web UI: one bundle built by `npm run build` into dist/ui. Its assets and its page are public (they hold no
 * data: the page asks the API, which wants a sign-in); any path that is not the API's gets the page, whose router
 * shows what the path names.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { ApiEnv } from '../env.js';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>medallion</title></head>
<body><p>The web UI is not built: run <code>npm run build</code>. The API answers under <code>/api</code>.</p></body></html>`;

/** The bundle `npm run build` makes beside the compiled server (dist/ui). */
export const BUILT_UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

export function uiRoutes(uiDir: string | undefined): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const root = uiDir && existsSync(path.join(uiDir, 'index.html')) ? path.resolve(uiDir) : undefined;
  app.get('/assets/*', async (c) => {
    if (!root) return c.notFound();
    const file = path.resolve(root, `.${decodeURIComponent(c.req.path)}`);
    const type = TYPES[path.extname(file)];
    // Only files inside the bundle's assets: no `..`, no other directory.
    if (!type || !file.startsWith(path.join(root, 'assets') + path.sep) || !existsSync(file))
      return c.notFound();
    return c.body(await readFile(file), 200, {
      'content-type': type,
      // The bundler names assets after their content: they never change under one name.
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });
  app.get('*', async (c) => {
    if (c.req.path.startsWith('/api/') || c.req.path === '/metrics') return c.notFound();
    const page = root ? await readFile(path.join(root, 'index.html'), 'utf8') : NOT_BUILT;
    return c.html(page, 200, { 'cache-control': 'no-cache' });
  });
  return app;
}
