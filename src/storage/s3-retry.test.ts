/**
 * Retries and timeouts against a tiny real HTTP server that misbehaves on purpose (MinIO cannot be made to).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStoreError } from './object-store.js';
import { S3ObjectStore } from './s3.js';

type Handler = (request: IncomingMessage, response: ServerResponse, attempt: number) => void;

let server: Server;
let endpoint: string;
let handler: Handler = (_request, response) => response.end();
let requests = 0;
let cacheDir: string;
const stores: S3ObjectStore[] = [];

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-retry-'));
  server = createServer((request, response) => {
    requests += 1;
    request.resume();
    request.on('end', () => handler(request, response, requests));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const store of stores.splice(0)) store.destroy();
  requests = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(cacheDir, { recursive: true, force: true });
});

function storeWith(options: { maxAttempts: number; idleTimeoutMs?: number }): S3ObjectStore {
  const store = new S3ObjectStore({
    bucket: 'lake',
    endpoint,
    credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
    cacheDir,
    cacheMaxBytes: 1024 * 1024,
    ...options,
  });
  stores.push(store);
  return store;
}

function answerObject(response: ServerResponse, body: string): void {
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': Buffer.byteLength(body),
    etag: '"0123456789abcdef0123456789abcdef"',
  });
  response.end(body);
}

function answerError(response: ServerResponse, status: number, code: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  response.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

describe('S3ObjectStore retries', () => {
  it('retries a request answered with HTTP 503 and then succeeds', async () => {
    handler = (_request, response, attempt) =>
      attempt <= 2 ? answerError(response, 503, 'SlowDown') : answerObject(response, 'third time lucky');
    const store = storeWith({ maxAttempts: 3 });
    expect((await store.get('a.txt')).toString()).toBe('third time lucky');
    expect(requests).toBe(3);
  });

  it('retries after the server resets the connection', async () => {
    handler = (request, response, attempt) =>
      attempt === 1 ? request.socket.resetAndDestroy() : answerObject(response, 'after the reset');
    const store = storeWith({ maxAttempts: 3 });
    expect((await store.get('a.txt')).toString()).toBe('after the reset');
    expect(requests).toBe(2);
  });

  it('gives up after maxAttempts server errors with an error naming the endpoint, object and attempts', async () => {
    handler = (_request, response) => answerError(response, 500, 'InternalError');
    const store = storeWith({ maxAttempts: 3 });
    const error = await store.put('landing/x.csv', 'x').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ObjectStoreError);
    expect((error as Error).message).toBe(
      `PutObject s3://lake/landing/x.csv at ${endpoint} failed: the server answered HTTP 500 (InternalError) after 3 attempts`,
    );
    expect(requests).toBe(3);
  });

  it('fails an attempt whose server goes silent after the idle timeout, then retries it', async () => {
    handler = (_request, response, attempt) => {
      if (attempt > 1) answerObject(response, 'awake');
      // attempt 1: never answer
    };
    const store = storeWith({ maxAttempts: 2, idleTimeoutMs: 300 });
    expect((await store.get('a.txt')).toString()).toBe('awake');
    expect(requests).toBe(2);

    handler = () => undefined;
    requests = 0;
    const error = await store.get('b.txt').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toMatch(/cannot reach the S3 endpoint \(.*after 2 attempts\)/);
    expect(requests).toBe(2);
  });
});
