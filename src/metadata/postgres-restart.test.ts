/**
 * The PostgreSQL store when its server restarts (a failover, an upgrade): a connection cut inside a transaction
 * fails that transaction and nothing else, later calls reconnect, and the wake-up listener comes back by itself.
 * On a server of the test's own: the shared one must stay up for the other suites.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOrSkip } from '../testing/postgres.js';
import { startPrivatePostgres, type PrivatePostgres } from '../testing/postgres-process.js';
import type { WakeTopic } from './metadata-store.js';
import { openPostgresStore } from './postgres.js';

const shared = postgresOrSkip('PostgreSQL restart');

describe.runIf(shared !== undefined)('the PostgreSQL store across a server restart', () => {
  let dir: string;
  let server: PrivatePostgres;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-pg-restart-'));
    server = await startPrivatePostgres(path.join(dir, 'server'));
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the transaction the restart cuts, survives it, and hears wake-ups again afterwards', async () => {
    const store = openPostgresStore(server.url, { listener: { backoffMs: 50, maxBackoffMs: 200 } });
    try {
      await store.migrate();
      const heard: WakeTopic[] = [];
      const subscription = store.subscribe((topic) => heard.push(topic));
      // A transaction holds its connection across statements: the restart cuts it between two of them.
      const cut = store.kysely.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await server.restart();
        await sql`select 1`.execute(trx);
      });
      await expect(cut).rejects.toThrow();
      // The next calls take fresh connections; the listener reconnects and says what it may have missed.
      await store.upsertPipeline('sales', 'h1');
      expect(await store.getPipeline('sales')).toMatchObject({ definitionHash: 'h1' });
      const deadline = Date.now() + 10_000;
      while (!(heard.includes('runs') && heard.includes('tasks')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(heard).toEqual(expect.arrayContaining(['runs', 'tasks']));
      heard.splice(0);
      await store.createRun({
        id: 'r1',
        pipeline: 'sales',
        logicalDate: '2024-03-01T00:00:00.000Z',
        dataIntervalStart: '2024-03-01T00:00:00.000Z',
        dataIntervalEnd: '2024-03-01T00:00:00.000Z',
        trigger: 'manual',
        params: {},
        tasks: [{ taskId: 'a', maxTries: 1 }],
      });
      while (!heard.includes('runs') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(heard).toContain('runs');
      await subscription.close();
    } finally {
      await store.close();
    }
  });
});
