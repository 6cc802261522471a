/**
 * The API behind real sign-ins: every registered route refuses callers without credentials (401) and roles without
 * its right (403); sessions need their CSRF token (and their origin) for changes; logins are rate-limited; tokens
 * are revocable; errors name the field and leak no stack. In process (Hono's fetch) over a real SQLite store.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createToken } from '../app/users.js';
import type { Role } from '../core/roles.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { apiOver, type Api } from '../testing/api.js';

let dir: string;
let store: MetadataStore;
let api: Api;
const PASSWORD = 'correct horse battery staple';
const tokens: Partial<Record<Role, string>> = {};
const logged: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-api-'));
  await writeFile(
    path.join(dir, 'medallion.config.json'),
    JSON.stringify({ lake: 'lake', source: 'source' }),
  );
  store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    await addUser(store, { name: role, role, password: PASSWORD });
    tokens[role] = (await createToken(store, { user: role, name: 'test' })).token;
  }
  api = await apiOver(store, dir, (line) => logged.push(line));
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function call(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Response> {
  return Promise.resolve(
    api.request(`http://medallion.test${url}`, {
      method,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    }),
  );
}

const bearer = (role: Role) => ({ authorization: `Bearer ${tokens[role]}` });

async function signIn(name: Role): Promise<{ cookie: string; csrf: string }> {
  const response = await call('POST', '/api/auth/login', {}, { name, password: PASSWORD });
  expect(response.status).toBe(200);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { cookie, csrf: ((await response.json()) as { csrfToken: string }).csrfToken };
}

interface Operation {
  method: string;
  path: string;
  permission: 'public' | 'read' | 'operate' | 'admin';
}

async function operations(): Promise<Operation[]> {
  const doc = (await (await call('GET', '/api/openapi.json', bearer('viewer'))).json()) as {
    paths: Record<string, Record<string, { 'x-permission': Operation['permission'] }>>;
  };
  return Object.entries(doc.paths).flatMap(([route, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      // Any value will do for a path parameter: the right is checked before the route looks at it.
      path: route.replace(/\{[^}]+\}/g, 'x'),
      permission: operation['x-permission'],
    })),
  );
}

describe('every route of the API', () => {
  it('says who may call it, and covers what the CLI does', async () => {
    const all = await operations();
    expect(all.length).toBeGreaterThan(25);
    expect(
      all.every((operation) => ['public', 'read', 'operate', 'admin'].includes(operation.permission)),
    ).toBe(true);
    expect(
      all.filter((operation) => operation.permission === 'public').map((operation) => operation.path),
    ).toEqual(['/api/health', '/api/auth/login', '/api/auth/me']);
  });

  it('answers 401 to a caller without credentials, or with a wrong or revoked token', async () => {
    const revoked = await createToken(store, { user: 'admin', name: 'revoked' });
    await store.revokeApiToken(revoked.record.id, new Date().toISOString());
    const wrong: Record<string, string>[] = [
      {},
      { authorization: 'Bearer mdl_0000000000000000_nope' },
      { authorization: `Bearer ${revoked.token}` },
    ];
    for (const operation of await operations()) {
      if (operation.permission === 'public') continue;
      for (const headers of wrong) {
        const response = await call(
          operation.method,
          operation.path,
          headers,
          operation.method === 'GET' ? undefined : {},
        );
        expect(response.status, `${operation.method} ${operation.path}`).toBe(401);
      }
    }
    for (const route of ['/metrics', '/api/docs', '/api/docs/swagger-ui-bundle.js']) {
      expect((await call('GET', route)).status, route).toBe(401);
    }
  });

  it('answers 403 to each role that lacks the right, whatever the input', async () => {
    const lacking: Record<Operation['permission'], Role[]> = {
      public: [],
      read: [],
      operate: ['viewer'],
      admin: ['viewer', 'operator'],
    };
    for (const operation of await operations()) {
      for (const role of lacking[operation.permission]) {
        const response = await call(
          operation.method,
          operation.path,
          bearer(role),
          operation.method === 'GET' ? undefined : {},
        );
        expect(response.status, `${role}: ${operation.method} ${operation.path}`).toBe(403);
      }
    }
  });

  it('refuses a change from a session without its CSRF token, with a wrong one, or from another origin', async () => {
    const admin = await signIn('admin');
    const changes = (await operations()).filter(
      (operation) => operation.method !== 'GET' && operation.permission !== 'public',
    );
    expect(changes.length).toBeGreaterThan(10);
    for (const operation of changes) {
      const attempts: Record<string, string>[] = [
        { cookie: admin.cookie },
        { cookie: admin.cookie, 'x-csrf-token': 'nope' },
      ];
      for (const headers of attempts) {
        const response = await call(operation.method, operation.path, headers, {});
        expect(response.status, `${operation.method} ${operation.path}`).toBe(403);
      }
    }
    const foreign = await call(
      'POST',
      '/api/pipelines/medallion_data_pipeline/pause',
      { cookie: admin.cookie, 'x-csrf-token': admin.csrf, origin: 'https://evil.example' },
      {},
    );
    expect(foreign.status).toBe(403);
    const mine = await call(
      'POST',
      '/api/pipelines/medallion_data_pipeline/pause',
      { cookie: admin.cookie, 'x-csrf-token': admin.csrf, origin: 'http://medallion.test' },
      {},
    );
    expect(mine.status).toBe(200);
    expect(await store.isPaused('medallion_data_pipeline')).toBe(true);
  });
});

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Lax session cookie, tells who is signed in, and signs out', async () => {
    const response = await call('POST', '/api/auth/login', {}, { name: 'operator', password: PASSWORD });
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^medallion_session=[\w-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const session = { cookie: cookie.split(';')[0] ?? '' };
    const me = (await (await call('GET', '/api/auth/me', session)).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ name: 'operator', role: 'operator', via: 'session' });
    const csrf = String(me.csrfToken);
    expect((await call('POST', '/api/auth/logout', { ...session, 'x-csrf-token': csrf }, {})).status).toBe(
      200,
    );
    expect(await (await call('GET', '/api/auth/me', session)).json()).toEqual({ signedIn: false });
  });

  it('refuses a wrong password without saying whether the user exists, and stops guessing after 5 tries', async () => {
    await addUser(store, { name: 'guessed', role: 'viewer', password: PASSWORD });
    const wrong = await call(
      'POST',
      '/api/auth/login',
      {},
      { name: 'guessed', password: 'not the password' },
    );
    const unknown = await call(
      'POST',
      '/api/auth/login',
      {},
      { name: 'nobody', password: 'not the password' },
    );
    expect(wrong.status).toBe(401);
    expect(await unknown.json()).toEqual(await wrong.json());
    for (let attempt = 2; attempt <= 5; attempt += 1) {
      expect(
        (await call('POST', '/api/auth/login', {}, { name: 'guessed', password: `wrong ${attempt}` })).status,
      ).toBe(401);
    }
    const limited = await call('POST', '/api/auth/login', {}, { name: 'guessed', password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('answers health without credentials, and nothing but that it answers', async () => {
    const response = await call('GET', '/api/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});

describe('answers', () => {
  it('carry a Content-Security-Policy and no caching of API answers', async () => {
    const response = await call('GET', '/api/pipelines', bearer('viewer'));
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('name the field of a bad request, say what is missing, and leak no stack', async () => {
    const bad = await call('GET', '/api/runs?limit=many', bearer('viewer'));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: expect.stringContaining('query parameter limit') });
    const missing = await call('GET', '/api/runs/run_missing', bearer('viewer'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'no run run_missing' });
    const unknownParam = await call(
      'POST',
      '/api/pipelines/medallion_data_pipeline/runs',
      bearer('operator'),
      { params: { toString: 1 } },
    );
    expect(unknownParam.status).toBe(400);
    expect(((await unknownParam.json()) as { error: string }).error).toContain('parameter toString');
  });

  it('lets a user make, list and revoke their own tokens, and only an admin see everyone’s', async () => {
    const made = (await (await call('POST', '/api/tokens', bearer('viewer'), { name: 'mine' })).json()) as {
      token: string;
      record: { id: string };
    };
    expect(made.token).toMatch(/^mdl_[0-9a-f]{16}_/);
    const own = (await (await call('GET', '/api/tokens', bearer('viewer'))).json()) as {
      tokens: { userName: string }[];
    };
    expect(new Set(own.tokens.map((token) => token.userName))).toEqual(new Set(['viewer']));
    const all = (await (await call('GET', '/api/tokens', bearer('admin'))).json()) as { tokens: unknown[] };
    expect(all.tokens.length).toBeGreaterThan(own.tokens.length);
    expect(JSON.stringify(all)).not.toMatch(/secretHash|mdl_/);
    expect((await call('DELETE', `/api/tokens/${made.record.id}`, bearer('operator'))).status).toBe(404);
    expect((await call('DELETE', `/api/tokens/${made.record.id}`, bearer('viewer'))).status).toBe(200);
    expect((await call('GET', '/api/tokens', { authorization: `Bearer ${made.token}` })).status).toBe(401);
  });
});

describe('a run’s page', () => {
  /** A run of the example pipeline whose ingest made one finished try with these log lines. */
  async function runWithLog(lines: string[]): Promise<string> {
    const now = new Date().toISOString();
    const { run } = await store.createRun({
      id: `run_log_${lines.length}`,
      pipeline: 'medallion_data_pipeline',
      logicalDate: now,
      dataIntervalStart: now,
      dataIntervalEnd: now,
      trigger: 'manual',
      params: {},
      tasks: [
        { taskId: 'ingest', maxTries: 1 },
        { taskId: 'bronze.marches_publics', maxTries: 1 },
      ],
    });
    await store.transitionTask(run.id, 'ingest', ['scheduled'], 'queued');
    await store.claimTasks('test', 1, now, { runIds: [run.id] });
    await store.appendLog(run.id, 'ingest', 1, lines);
    await store.finishAttempt(run.id, 'ingest', 1, { state: 'success', finishedAt: now });
    return run.id;
  }

  it('names the tasks each task waits for, as the project defines the pipeline', async () => {
    const runId = await runWithLog(['one line']);
    const detail = (await (await call('GET', `/api/runs/${runId}`, bearer('viewer'))).json()) as {
      tasks: { taskId: string; dependsOn: string[] }[];
    };
    expect(Object.fromEntries(detail.tasks.map((task) => [task.taskId, task.dependsOn]))).toEqual({
      ingest: [],
      'bronze.marches_publics': ['ingest'],
    });
  });

  it('sends a try’s whole log as a file to save, past the pages its JSON comes in', async () => {
    const lines = Array.from({ length: 2_345 }, (_, index) => `line ${index + 1} of the try`);
    const runId = await runWithLog(lines);
    const url = `/api/runs/${runId}/tasks/ingest/log`;
    const file = await call('GET', `${url}?format=text`, bearer('viewer'));
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="${runId}_ingest_try1.log"`);
    expect(await file.text()).toBe(lines.map((line) => `${line}\n`).join(''));
    const rest = await call('GET', `${url}?format=text&attempt=1&after=2000`, bearer('viewer'));
    expect((await rest.text()).split('\n').slice(0, 2)).toEqual([
      'line 2001 of the try',
      'line 2002 of the try',
    ]);
    const page = (await (await call('GET', `${url}?limit=10`, bearer('viewer'))).json()) as {
      lines: string[];
    };
    expect(page.lines).toEqual(lines.slice(0, 10));
    const missing = await call('GET', `${url}?format=text&attempt=2`, bearer('viewer'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: `task ingest of run ${runId} has no attempt 2` });
    const bad = await call('GET', `${url}?format=csv`, bearer('viewer'));
    expect(await bad.json()).toEqual({
      error: 'query parameter format: expected json or text',
      field: 'format',
    });
  });
});
