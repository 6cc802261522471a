import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { describeError } from '../core/errors.js';
import { postgresOrSkip, TestSchemas } from '../testing/postgres.js';
import { describeMetadataStoreConformance } from './metadata-store.conformance.js';
import { openMetadataStore } from './open.js';

const baseUrl = postgresOrSkip('PostgreSQL metadata store tests');

/** Every test gets its own schema (on the search_path of its connections); all are dropped afterwards. */
const schemas = new TestSchemas(baseUrl);
const dropSchemas = (): Promise<void> => schemas.dropAll();

if (baseUrl) {
  describeMetadataStoreConformance('PostgreSQL', {
    freshUrl: async () => schemas.url(),
    cleanup: dropSchemas,
    concurrentInProcess: true,
  });
}

describe.runIf(baseUrl !== undefined)('PostgreSQL openMetadataStore', () => {
  afterAll(dropSchemas);

  it('keeps the tables in the schema the URL names', async () => {
    const schema = schemas.name('own');
    const store = await openMetadataStore(schemas.url(schema));
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
        'medallion_alert_occurrences',
        'medallion_alerts',
        'medallion_api_tokens',
        'medallion_attempts',
        'medallion_connections',
        'medallion_leases',
        'medallion_login_failures',
        'medallion_migrations',
        'medallion_pipelines',
        'medallion_processes',
        'medallion_runs',
        'medallion_sessions',
        'medallion_task_instances',
        'medallion_task_logs',
        'medallion_users',
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
