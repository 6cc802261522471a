import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { describeError } from '../core/errors.js';
import { describeMetadataStoreConformance } from './metadata-store.conformance.js';
import { openMetadataStore } from './open.js';

const ENV_FILE = path.resolve('.cache/services/postgres.env');

/** MEDALLION_TEST_POSTGRES_URL from the environment, else from the env file scripts/services/postgres.sh writes. */
function testPostgresUrl(): string | { reason: string } {
  const fromEnv = process.env.MEDALLION_TEST_POSTGRES_URL;
  if (fromEnv) return fromEnv;
  if (existsSync(ENV_FILE)) {
    const match = /^MEDALLION_TEST_POSTGRES_URL='(.*)'$/m.exec(readFileSync(ENV_FILE, 'utf8'));
    if (match?.[1]) return match[1];
  }
  return {
    reason:
      'no test PostgreSQL: MEDALLION_TEST_POSTGRES_URL is not set and ' +
      `${path.relative(process.cwd(), ENV_FILE)} does not exist; run \`bash scripts/services/postgres.sh start\``,
  };
}

const server = testPostgresUrl();
if (typeof server !== 'string') {
  // Under CI the PostgreSQL suites must run: a missing server fails this file instead of skipping it.
  if (process.env.CI === 'true')
    throw new Error(`PostgreSQL metadata store tests: CI=true but ${server.reason}`);
  console.warn(`PostgreSQL metadata store tests skipped: ${server.reason}`);
}
const baseUrl = typeof server === 'string' ? server : undefined;

/** Every test gets its own schema (on the search_path of its connections); all are dropped afterwards. */
const prefix = `medallion_test_${process.pid}_${Date.now().toString(36)}`;
const schemas: string[] = [];

function urlWithSchema(schema: string): string {
  const url = new URL(baseUrl ?? '');
  url.searchParams.set('schema', schema);
  return url.toString();
}

async function dropSchemas(): Promise<void> {
  if (!baseUrl || schemas.length === 0) return;
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    for (const schema of schemas.splice(0)) await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

if (baseUrl) {
  describeMetadataStoreConformance('PostgreSQL', {
    freshUrl: async () => {
      const schema = `${prefix}_${schemas.length + 1}`;
      schemas.push(schema);
      return urlWithSchema(schema);
    },
    cleanup: dropSchemas,
    concurrentInProcess: true,
  });
}

describe.runIf(baseUrl !== undefined)('PostgreSQL openMetadataStore', () => {
  afterAll(dropSchemas);

  it('keeps the tables in the schema the URL names', async () => {
    const schema = `${prefix}_own`;
    schemas.push(schema);
    const store = await openMetadataStore(urlWithSchema(schema));
    try {
      expect(store.dialect).toBe('postgres');
      await store.upsertPipeline('sales', 'h');
    } finally {
      await store.close();
    }
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        'select table_name from information_schema.tables where table_schema = $1 order by table_name',
        [schema],
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual([
        'medallion_attempts',
        'medallion_migrations',
        'medallion_pipelines',
        'medallion_runs',
        'medallion_task_instances',
        'medallion_task_logs',
      ]);
    } finally {
      await client.end();
    }
  });

  it('reports a server it cannot reach, naming --db and hiding the password', async () => {
    const error = await openMetadataStore('postgres://someone:secret@127.0.0.1:1/nothing').catch(
      (caught: unknown) => caught,
    );
    expect(describeError(error)).toMatch(
      /^--db: cannot prepare the metadata database postgres:\/\/someone:\*\*\*@/,
    );
    expect(describeError(error)).not.toContain('secret');
  });
});
