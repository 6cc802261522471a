/**
 * The Connections page's API: a connection kept with its secret sealed, tested against a real endpoint (the test
 * MinIO when there is one) or an unreachable one, listed without its secret, removed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addUser, createToken } from '../app/users.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { apiOver, callerWith } from '../testing/api.js';
import { testS3Server } from '../testing/minio.js';

let dir: string;
let store: MetadataStore;
let call: ReturnType<typeof callerWith>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-connections-api-'));
  // Secrets are sealed with this key, not with a key file in the working directory.
  vi.stubEnv('MEDALLION_SECRET_KEY', randomBytes(32).toString('base64'));
  vi.stubEnv('MEDALLION_CACHE_DIR', path.join(dir, 'cache'));
  await writeFile(path.join(dir, 'medallion.config.json'), JSON.stringify({ lake: 'lake' }));
  store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
  await addUser(store, { name: 'ada', role: 'admin', password: 'an admin password' });
  const token = (await createToken(store, { user: 'ada', name: 'test' })).token;
  call = callerWith(await apiOver(store, dir), token);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a connection through the API', () => {
  it('says that an endpoint nobody answers on fails, with why', async () => {
    const secret = 'a secret never sent back';
    const put = await call('PUT', '/api/connections/nowhere', {
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      accessKeyId: 'AKIAEXAMPLEKEY1234',
      secretAccessKey: secret,
    });
    expect(put).toEqual({ status: 200, body: { replaced: false } });
    const test = await call<{ ok: boolean; detail: string }>('POST', '/api/connections/nowhere/test', {});
    expect(test.status).toBe(200);
    expect(test.body.ok).toBe(false);
    expect(test.body.detail).not.toBe('');
    const list = await call<{ connections: { name: string; accessKeyId: string }[] }>(
      'GET',
      '/api/connections',
    );
    expect(list.body.connections).toEqual([
      expect.objectContaining({ name: 'nowhere', endpoint: 'http://127.0.0.1:9', accessKeyId: '****1234' }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(await call('DELETE', '/api/connections/nowhere')).toEqual({ status: 200, body: { done: true } });
    expect((await call('POST', '/api/connections/nowhere/test', {})).status).toBe(400);
  });

  const server = testS3Server();
  it.skipIf('reason' in server)('says that the test S3 server accepts its credentials', async () => {
    if ('reason' in server) return;
    await call('PUT', '/api/connections/minio', {
      endpoint: server.endpoint,
      region: server.region,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
    });
    expect(await call('POST', '/api/connections/minio/test', {})).toEqual({
      status: 200,
      body: { ok: true, detail: 'the endpoint answers and accepts the credentials' },
    });
    await call('PUT', '/api/connections/minio', {
      endpoint: server.endpoint,
      region: server.region,
      accessKeyId: server.accessKeyId,
      secretAccessKey: 'not the secret',
    });
    const refused = await call<{ ok: boolean }>('POST', '/api/connections/minio/test', {});
    expect(refused.body.ok).toBe(false);
  });
});
